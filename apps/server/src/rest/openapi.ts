// The REST adapter's OpenAPI 3.1 document, built from the route table (routes.ts) and the same zod
// schemas the procedures validate with: there is no hand-written copy of any route or shape.
import { createDocument, type ZodOpenApiPathsObject } from "zod-openapi";
import { REST_ROUTES } from "./routes.ts";

/** The OpenAPI 3.1 document of the REST adapter. */
export function openApiDocument() {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of REST_ROUTES) {
    paths[route.path] = { ...paths[route.path], [route.method]: route.operation };
  }
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "Todo REST API",
      version: "1.0.0",
      description:
        "REST compatibility adapter of the Todo API. Every route needs `Authorization: Bearer <JWT>`; `user_id` must be the token's subject. Answers are `{ data, meta }`; errors `{ data: null, error, meta }`.",
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
    paths,
  });
}
