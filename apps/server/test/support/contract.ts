// The contract test: every REST answer the suite receives is checked against the OpenAPI
// document the server publishes (harness.ts's rest() calls this for each response).
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { openApiDocument } from "../../src/rest/openapi.ts";

const spec = openApiDocument();
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
// The spec's own "#/components/…" references resolve against it, registered under one id.
ajv.addSchema(
  JSON.parse(JSON.stringify(spec).replaceAll('"#/components/', '"spec#/components/')),
  "spec",
);

type Operation = { responses?: Record<string, { content?: Record<string, { schema?: object }> }> };
const routes = Object.entries(spec.paths ?? {}).map(([template, item]) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
  item: item as Record<string, Operation>,
}));

const compiled = new Map<string, ValidateFunction>();
export let checkedResponses = 0;

/**
 * Throws when a JSON answer to a documented route does not match the document, or has a status
 * the document does not list. Undocumented routes (unknown paths) are not the contract's.
 */
export function assertMatchesSpec(method: string, url: string, status: number, body: unknown) {
  const path = new URL(url, "http://x").pathname;
  const route = routes.find((r) => r.pattern.test(path));
  const operation = route?.item[method.toLowerCase()];
  if (!route || !operation) return;
  const response = operation.responses?.[String(status)];
  if (!response) {
    throw new Error(`contract: ${method} ${route.template} answered ${status}, not in the spec`);
  }
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) return;
  const key = `${method} ${route.template} ${status}`;
  let validate = compiled.get(key);
  if (!validate) {
    const rewritten = JSON.parse(
      JSON.stringify(schema).replaceAll('"#/components/', '"spec#/components/'),
    );
    validate = ajv.compile(rewritten);
    compiled.set(key, validate);
  }
  if (!validate(body)) {
    throw new Error(
      `contract: ${key} does not match the spec: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
    );
  }
  checkedResponses++;
}
