import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';

let shared: AjvJsonSchemaValidator | undefined;

/**
 * One JSON Schema validator for every client session, made on first use. The SDK's `Server` would build an Ajv
 * instance for each session (about a third of a session's memory) for `elicitInput`, which the gateway never
 * calls: it relays elicitation requests as they are.
 */
export const sharedSchemaValidator: jsonSchemaValidator = {
  getValidator: (schema) => (shared ??= new AjvJsonSchemaValidator()).getValidator(schema),
};
