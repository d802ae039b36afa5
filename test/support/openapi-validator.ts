import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { API_OPERATIONS, openApiDocument, openApiPath } from '../../src/http/openapi.js';

type Json = Record<string, unknown>;

/**
 * Checks API answers against the OpenAPI document the server publishes: the operation is found by
 * method and path, and a JSON body must match the schema the document gives for its status (the
 * Error schema for a refusal). A status the document does not list for the operation fails too.
 */
export class ResponseValidator {
  readonly #document: Json;
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true });
  readonly #compiled = new Map<string, ValidateFunction>();
  readonly #routes = API_OPERATIONS.map((op) => ({
    method: op.method,
    template: openApiPath(op.path),
    pattern: new RegExp(`^${op.path.replace(/:(\w+)/g, '[^/]+')}$`),
  }));
  checked = 0;

  constructor(document: Json = openApiDocument('http://localhost')) {
    this.#document = document;
    addFormats.default(this.#ajv);
    this.#ajv.addSchema({ ...(((document.components as Json).schemas as Json).Error as Json), $id: 'error' }, 'error');
  }

  check(method: string, url: string, status: number, contentType: string | null, body: unknown): void {
    const path = url.split('?')[0]!;
    const route = this.#routes.find((r) => r.method === method.toLowerCase() && r.pattern.test(path));
    if (!route) throw new Error(`${method} ${path} is not in the OpenAPI document`);
    const operation = ((this.#document.paths as Json)[route.template] as Json)[route.method] as Json;
    const response = (operation.responses as Record<string, Json>)[String(status)];
    if (!response) throw new Error(`${method} ${route.template} answered ${status}, which the document does not list`);
    if (!contentType?.includes('json')) return;
    const key = `${route.method} ${route.template} ${status}`;
    let validate = this.#compiled.get(key);
    if (!validate) {
      const schema = ((response.content as Json)['application/json'] as Json).schema as Json;
      validate = this.#ajv.compile(schema.$ref === '#/components/schemas/Error' ? { $ref: 'error' } : schema);
      this.#compiled.set(key, validate);
    }
    if (!validate(body)) {
      throw new Error(
        `${method} ${route.template} ${status} does not match the document: ${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
      );
    }
    this.checked += 1;
  }
}
