import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { METHODS, PATH } from './routes';
import { grantScoped } from '../private/grants';

const ROUTE_WILDCARD_REASON = 'Each * stands for a path parameter (or the method of an ANY route) of a named route of this API; ' +
  'the API, the $default stage and the rest of the path are fixed.';

/**
 * A secure API: one created in this app (`SecureApi`), or one imported from another stack or
 * app with `SecureApi.fromSecureApiAttributes`, whose IAM-authorized routes callers are granted.
 */
export interface ISecureApi extends IConstruct {
  /** The HTTP API. */
  readonly httpApi: apigwv2.IHttpApi;

  /** The base URL of the API, ending in `/`. */
  readonly url: string;

  /**
   * Allows `grantee` to call the API's IAM-authorized routes (`execute-api:Invoke` on the
   * `$default` stage).
   *
   * @param grantee who may call
   * @param route one route, as `'<METHOD> <path>'` (e.g. `'GET /items/{id}'`). Default: every route of the API
   */
  grantInvoke(grantee: iam.IGrantable, route?: string): iam.Grant;

  /** Requests the API answered with 4xx (`AWS/ApiGateway` `4xx` of the API; sum unless `statistic` says otherwise). */
  metricClientErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Requests the API answered with 5xx (`AWS/ApiGateway` `5xx` of the API; sum unless `statistic` says otherwise). */
  metricServerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Time from request to response, in milliseconds (`AWS/ApiGateway` `Latency` of the API;
   * average unless `statistic` says otherwise, e.g. `'p99'`).
   */
  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Requests answered with 4xx, per period (sum).
   * @deprecated use metricClientErrors
   */
  metricClientError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Requests answered with 5xx, per period (sum).
   * @deprecated use metricServerErrors
   */
  metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/**
 * What `SecureApi.fromSecureApiAttributes` needs to know of a `SecureApi` created in another
 * stack or app. The region and account are the importing stack's: the API must be in the same
 * environment.
 */
export interface SecureApiAttributes {
  /**
   * The id of the HTTP API (`secureApi.httpApi.apiId`: ten lower-case letters and digits, the
   * first label of the execute-api host name).
   */
  readonly httpApiId: string;

  /**
   * The base URL of the API, as the `SecureApi`'s `url`; give it when the API has a custom domain.
   * @default - the execute-api endpoint of `httpApiId` in the stack's region, followed by `/`
   */
  readonly url?: string;
}

/**
 * The grants and metrics every `ISecureApi` shares: those of a `SecureApi` and of one imported
 * with `SecureApi.fromSecureApiAttributes` are written by this one class.
 */
export abstract class SecureApiBase extends Construct implements ISecureApi {
  /** The HTTP API. */
  public abstract readonly httpApi: apigwv2.IHttpApi;
  /** The base URL of the API, ending in `/`. */
  public abstract readonly url: string;

  /**
   * Allows `grantee` to call the API's IAM-authorized routes (`execute-api:Invoke` on the
   * `$default` stage).
   *
   * A `SecureApi` checks the grant: the route must be added to it (before or after the grant)
   * and authorize with IAM, and a grant of every route needs IAM as the API's authorization. An
   * imported API knows neither its routes nor their authorization: it grants what it is asked,
   * and an IAM grant does nothing on a route that authorizes otherwise.
   *
   * @param grantee who may call
   * @param route one route, as `'<METHOD> <path>'` exactly as added (e.g. `'GET /items/{id}'`; a
   *        method also matches an `ANY` route of the same path). Path parameters become `*`.
   *        Default: every route of the API (the API's authorization must then be IAM).
   */
  public grantInvoke(grantee: iam.IGrantable, route?: string): iam.Grant {
    if (route === undefined) {
      this._checkInvokeAll();
      return grantScoped(grantee, {
        actions: ['execute-api:Invoke'],
        resources: [this.httpApi.arnForExecuteApi('*', '/*', '$default')],
        wildcardReason: 'Every route of this one API on its $default stage, as granted with SecureApi.grantInvoke() without a route; ' +
          'no other API and no other stage.',
      });
    }
    const match = /^([A-Z]+) (\S+)$/.exec(route);
    if (!match || !METHODS.includes(match[1]) || !PATH.test(match[2])) {
      throw new Error(`SecureApi.grantInvoke: route '${route}' must be '<METHOD> <path>' as added, with METHOD one of ` +
        `${METHODS.join(', ')}, e.g. 'GET /items/{id}'`);
    }
    const [, method, path] = match;
    this._checkInvokeRoute(route, method, path);
    const arnPath = path.replace(/\{[^}]+\}/g, '*');
    const wildcard = method === 'ANY' || arnPath.includes('*');
    return grantScoped(grantee, {
      actions: ['execute-api:Invoke'],
      resources: [this.httpApi.arnForExecuteApi(method === 'ANY' ? '*' : method, arnPath, '$default')],
      wildcardReason: wildcard ? ROUTE_WILDCARD_REASON : undefined,
    });
  }

  /**
   * Requests the API answered with 4xx (`AWS/ApiGateway` `4xx` of the API, all routes of its
   * `$default` stage; sum unless `statistic` says otherwise).
   */
  public metricClientErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.httpApi.metricClientError(props);
  }

  /**
   * Requests the API answered with 5xx (`AWS/ApiGateway` `5xx` of the API, all routes of its
   * `$default` stage; sum unless `statistic` says otherwise).
   */
  public metricServerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.httpApi.metricServerError(props);
  }

  /**
   * Time from request to response, in milliseconds (`AWS/ApiGateway` `Latency` of the API;
   * average unless `statistic` says otherwise, e.g. `'p99'`).
   */
  public metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.httpApi.metricLatency(props);
  }

  /**
   * Requests answered with 4xx, per period (sum).
   * @deprecated use metricClientErrors
   */
  public metricClientError(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricClientErrors(props);
  }

  /**
   * Requests answered with 5xx, per period (sum).
   * @deprecated use metricServerErrors
   */
  public metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricServerErrors(props);
  }

  /**
   * Throws (or registers a validation) when a grant of every route would not work. Nothing to
   * check by default (an import knows nothing of the API's authorization).
   * @internal
   */
  protected _checkInvokeAll(): void {
    // An imported API: nothing known to check.
  }

  /**
   * Throws (or registers a validation) when a grant of `method path` would not work. Nothing
   * to check by default (an import knows nothing of the API's routes).
   * @internal
   */
  protected _checkInvokeRoute(_route: string, _method: string, _path: string): void {
    // An imported API: nothing known to check.
  }
}
