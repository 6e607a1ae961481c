// Calls a Procore API with Procore's own JavaScript SDK (@procore/js-sdk)
// and prints, as one JSON array, each refused call's status and body as
// the SDK hands them to its caller: what code written against Procore
// reads (errors.email_address, errors). procore_sdk_test.go runs it
// against the service's Procore-compatible route and against the
// emulator directly.
//
// Environment: PROCORE_SDK (the package's directory), BASE (the API's
// base URL), TOKEN (a Procore access token), COMPANY, USER, TAKEN_EMAIL
// (another user's address), UNKNOWN_USER.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sdk = require(process.env.PROCORE_SDK);
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const company = Number(env('COMPANY'));
const client = sdk.client(sdk.oauth(env('TOKEN')), {}, {
  apiHostname: env('BASE'),
  defaultVersion: 'v1.3',
  defaultCompanyId: company,
});
const user = (id) => ({ base: '/companies/{company_id}/users', params: { company_id: company, id } });

// refused runs one call that must fail and returns what the SDK rejected
// it with.
async function refused(name, call) {
  try {
    const ok = await call();
    return { name, status: ok.response.status, body: ok.body, unexpected: 'the call succeeded' };
  } catch (rejection) {
    if (!rejection || !rejection.response) {
      return { name, status: 0, body: null, unexpected: String(rejection) };
    }
    return { name, status: rejection.response.status, body: rejection.body };
  }
}

const results = [
  await refused('invalid email', () => client.patch(user(Number(env('USER'))),
    { user: { last_name: 'Okafor', email_address: 'not-an-address' } })),
  await refused('email taken', () => client.patch(user(Number(env('USER'))),
    { user: { last_name: 'Okafor', email_address: env('TAKEN_EMAIL') } })),
  await refused('unknown user', () => client.get(user(Number(env('UNKNOWN_USER'))))),
];
for (const r of results) {
  if (r.name === 'invalid email' || r.name === 'email taken') {
    // What a Procore caller reads: errors.email_address, a list of messages.
    const messages = r.body && r.body.errors && r.body.errors.email_address;
    r.email_address = Array.isArray(messages) ? messages : null;
  }
}
process.stdout.write(JSON.stringify(results));
