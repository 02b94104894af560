import { Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';

// Route paths, methods and API ids as the SecureApi and its imports check them. Not public.

/** A route path: `/`, or segments of letters, digits, - _ . ~ or parameters like `{id}` / `{proxy+}`. */
export const PATH = /^\/$|^(\/([A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\+?\}))+$/;
export const METHODS = Object.values(apigwv2.HttpMethod) as string[];

/** An API Gateway API id: ten lower-case letters and digits. */
const HTTP_API_ID = /^[a-z0-9]{10}$/;
/** An https URL: a host name (and port), then an optional path of printable characters. */
const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[\x21-\x7e]*)?$/;

/**
 * Throws unless `id` (not a token) is an HTTP API id.
 *
 * @param what who checks, e.g. `SecureApi.fromSecureApiAttributes('Api')`
 * @param fix where the right value is found, e.g. `pass the SecureApi's httpApi.apiId`
 */
export function checkHttpApiId(what: string, id: string, fix: string): void {
  if (!Token.isUnresolved(id) && !HTTP_API_ID.test(id)) {
    throw new Error(`${what}: httpApiId must be the id of an HTTP API, ten lower-case letters and digits such as 'a1b2c3d4e5' ` +
      `(the first label of its execute-api host name), got '${id}'; ${fix}`);
  }
}

/**
 * Throws unless `url` (not a token) is an https URL; names the attribute as `prop`.
 *
 * @param example a URL of the expected form, for the message
 * @param fix what to pass instead
 */
export function checkHttpsUrl(what: string, prop: string, url: string, example: string, fix: string): void {
  if (!Token.isUnresolved(url) && !HTTPS_URL.test(url)) {
    throw new Error(`${what}: ${prop} must be an https:// URL such as '${example}', got '${url}'; ${fix}`);
  }
}
