package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// devEmulator is the built-in Procore emulator of --dev, on a loopback port.
type devEmulator struct {
	url                    string
	clientID, clientSecret string
	close                  func()
}

// startEmulator serves the emulator with its built-in seed and picks the
// seed's Directory Admin client, so every field can be changed in dev mode.
// Without rateLimits the emulator enforces no rate limit (load tests).
func startEmulator(log *slog.Logger, rateLimits bool) (*devEmulator, error) {
	opts := []procoretest.Option{procoretest.WithLogger(log.With("component", "procore-emulator"))}
	if !rateLimits {
		opts = append(opts, procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0))
	}
	emu, err := procoretest.Start(opts...)
	if err != nil {
		return nil, fmt.Errorf("dev emulator: %w", err)
	}
	admin, ok := emu.AdminClient()
	if !ok {
		emu.Close()
		return nil, errors.New("dev emulator: the built-in seed has no Directory Admin client")
	}
	return &devEmulator{
		url:          emu.URL,
		clientID:     admin.ClientID,
		clientSecret: admin.ClientSecret,
		close:        emu.Close,
	}, nil
}

// printDevHelp shows the commands to try against a dev instance.
func printDevHelp(w io.Writer, grpcAddr, httpAddr string) {
	fmt.Fprintf(w, `
Dev mode: serving the built-in Procore emulator's seed (companies 8089 and 5120).
Try:
  grpcurl -plaintext %[1]s list
  grpcurl -plaintext %[1]s describe
  grpcurl -plaintext %[1]s describe procore.directory.v1.DirectoryService
  grpcurl -plaintext %[1]s grpc.health.v1.Health/Check
  grpcurl -plaintext -d '{"company_id": 8089, "id": 1001}' %[1]s procore.directory.v1.DirectoryService/GetCompanyUser
  grpcurl -plaintext -d '{"company_id": 8089, "id": 1001, "user": {"job_title": "Senior Project Manager"}, "update_mask": {"paths": ["job_title"]}}' %[1]s procore.directory.v1.DirectoryService/UpdateCompanyUser
  grpcurl -plaintext -d '{"company_id": 8089, "id": 1001, "user": {"country_code": "XX"}, "update_mask": {"paths": ["country_code"]}}' %[1]s procore.directory.v1.DirectoryService/UpdateCompanyUser
  curl -s http://%[2]s/v1/companies/8089/users/1001
  curl -s -X PATCH http://%[2]s/v1/companies/8089/users/1001 -H 'Content-Type: application/json' -d '{"job_title": "Site Lead"}'
  curl -s -X PATCH http://%[2]s/rest/v1.3/companies/8089/users/1001 -H 'Content-Type: application/json' -d '{"user": {"city": "Salem"}}'
  curl -s -X POST http://%[2]s/v1/companies/8089/users:batchUpdate -H 'Content-Type: application/json' -d '{"requests": [{"id": 1004, "user": {"job_title": "Foreman"}, "update_mask": "jobTitle"}]}'
  curl -s http://%[2]s/openapi.json
`, grpcAddr, httpAddr)
}
