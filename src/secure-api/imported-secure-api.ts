import { Stack, Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { Construct } from 'constructs';
import { checkHttpApiId, checkHttpsUrl } from './routes';
import { SecureApiAttributes, SecureApiBase } from './secure-api-base';

/**
 * A `SecureApi` of another stack or app, known by its attributes: it creates nothing but the
 * `IHttpApi` reference its grants are written against, and takes no routes. Not exported: the
 * public face is `SecureApi.fromSecureApiAttributes`.
 */
export class ImportedSecureApi extends SecureApiBase {
  public readonly httpApi: apigwv2.IHttpApi;
  public readonly url: string;

  constructor(scope: Construct, id: string, attrs: SecureApiAttributes) {
    super(scope, id);
    const what = `SecureApi.fromSecureApiAttributes('${id}')`;
    checkHttpApiId(what, attrs.httpApiId, 'pass the SecureApi\'s httpApi.apiId');
    const stack = Stack.of(this);
    const endpoint = `https://${attrs.httpApiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    this.httpApi = apigwv2.HttpApi.fromHttpApiAttributes(this, 'HttpApi', { httpApiId: attrs.httpApiId, apiEndpoint: endpoint });
    if (attrs.url === undefined) {
      this.url = `${endpoint}/`;
    } else if (Token.isUnresolved(attrs.url)) {
      this.url = attrs.url;
    } else {
      checkHttpsUrl(what, 'url', attrs.url, 'https://api.example.com/', 'pass the SecureApi\'s url, or leave it unset for the execute-api endpoint');
      // Like SecureApi.url: one trailing slash.
      this.url = `${attrs.url.replace(/\/+$/, '')}/`;
    }
  }
}
