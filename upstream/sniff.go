package upstream

import "net/http"

// SniffContentType is the MIME type Procore's upload handling would see
// in data (the WHATWG sniffing algorithm of http.DetectContentType). The
// service checks an avatar's declared content type against it before
// sending the multipart PATCH; it lives here, beside that multipart body,
// so the service core needs no net/http.
func SniffContentType(data []byte) string { return http.DetectContentType(data) }
