// Validates an OpenAPI document against the OpenAPI 3 specification and schema.
// Usage: node validate-openapi.mjs URL
// Prints the number of paths; exits 1 with the reason otherwise.
import SwaggerParser from '@apidevtools/swagger-parser';

const [url] = process.argv.slice(2);
try {
  const response = await fetch(url);
  const api = await SwaggerParser.validate(await response.json());
  console.log(JSON.stringify({ paths: Object.keys(api.paths).length }));
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
