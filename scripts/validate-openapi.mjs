// Validates OpenAPI documents (Swagger 2.0 and OpenAPI 3) against their
// specification's schema, and checks that every $ref resolves, with
// swagger-parser, an independent validator nobody here wrote.
//
//   scripts/tools.sh openapi-validator
//   node scripts/validate-openapi.mjs gen/openapi/directory.swagger.json gen/openapi/directory.openapi.json
//
// Exits 1 on the first invalid document, naming it and the problem.
import { createRequire } from "node:module";

const require = createRequire(new URL("../.tools/npm/", import.meta.url));
const SwaggerParser = require("@apidevtools/swagger-parser");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/validate-openapi.mjs FILE...");
  process.exit(2);
}
for (const file of files) {
  try {
    const api = await SwaggerParser.validate(file);
    const version = api.openapi ?? api.swagger;
    const operations = Object.values(api.paths ?? {}).reduce(
      (n, item) => n + Object.keys(item).filter((k) => ["get", "put", "post", "delete", "patch"].includes(k)).length,
      0,
    );
    console.log(`${file}: valid (${api.openapi ? "OpenAPI" : "Swagger"} ${version}, ${operations} operations)`);
  } catch (err) {
    console.error(`${file}: invalid: ${err.message}`);
    process.exit(1);
  }
}
