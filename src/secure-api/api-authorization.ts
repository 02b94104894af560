import { Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer, HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { checkBuiltByFactory } from '../private/closed-class';

/** How callers of a route prove who they are. */
export enum ApiAuthorizationType {
  /** AWS IAM: requests are signed with SigV4; grant callers with `SecureApi.grantInvoke`. */
  IAM = 'IAM',
  /** A JSON Web Token from an OpenID Connect issuer (for example a Cognito user pool). */
  JWT = 'JWT',
  /** No authorization: anyone on the internet may call the route. */
  NONE = 'NONE',
}

/** Options of `ApiAuthorization.jwt`. */
export interface JwtAuthorizationOptions {
  /**
   * The token issuer (the `iss` claim), an `https://` URL, e.g.
   * `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf` or `https://example.eu.auth0.com/`.
   */
  readonly issuer: string;
  /** Accepted audiences (the `aud` claim, or `client_id` for Cognito access tokens); at least one. */
  readonly audience: string[];
  /**
   * Where the token is read from.
   * @default ['$request.header.Authorization']
   */
  readonly identitySource?: string[];
}

/** Options of `ApiAuthorization.cognito`. */
export interface CognitoAuthorizationOptions {
  /** The user pool that issues the tokens. */
  readonly userPool: cognito.IUserPool;
  /** The app clients whose tokens are accepted; at least one. */
  readonly userPoolClients: cognito.IUserPoolClient[];
  /**
   * The region of the user pool.
   * @default - the stack's region
   */
  readonly userPoolRegion?: string;
}

/**
 * How a `SecureApi`, or one of its routes, authorizes callers: AWS IAM (the default), a JWT
 * authorizer (any OpenID Connect issuer, or a Cognito user pool), or, for a single route
 * and only when asked for by name, none.
 *
 * `none()` cannot be an API's default: an API is never anonymous by accident. Each anonymous
 * route must say `authorization: ApiAuthorization.none()` itself.
 */
export class ApiAuthorization {
  /** AWS IAM (SigV4-signed requests); grant callers with `SecureApi.grantInvoke`. */
  public static iam(): ApiAuthorization {
    return new ApiAuthorization(ApiAuthorizationType.IAM, 'IAM', () => new HttpIamAuthorizer());
  }

  /** A JWT authorizer for an OpenID Connect issuer and audience. */
  public static jwt(options: JwtAuthorizationOptions): ApiAuthorization {
    const issuer = options.issuer;
    if (!Token.isUnresolved(issuer) && !/^https:\/\/[^\s/]+/.test(issuer)) {
      throw new Error(`ApiAuthorization.jwt: issuer must be an https:// URL (the token's iss claim), got '${issuer}'`);
    }
    if (!Token.isUnresolved(options.audience) && options.audience.length === 0) {
      throw new Error('ApiAuthorization.jwt: audience is empty; give the audiences (or app client ids) the API accepts');
    }
    if (options.identitySource && options.identitySource.length === 0) {
      throw new Error('ApiAuthorization.jwt: identitySource is empty; leave it unset to read the Authorization header');
    }
    return new ApiAuthorization(ApiAuthorizationType.JWT, `JWT (${issuer})`, (id) => new HttpJwtAuthorizer(id, issuer, {
      jwtAudience: options.audience,
      identitySource: options.identitySource,
    }));
  }

  /** A JWT authorizer for the tokens of a Cognito user pool's app clients. */
  public static cognito(options: CognitoAuthorizationOptions): ApiAuthorization {
    if (options.userPoolClients.length === 0) {
      throw new Error('ApiAuthorization.cognito: userPoolClients is empty; give the app clients whose tokens the API accepts');
    }
    return new ApiAuthorization(ApiAuthorizationType.JWT, 'Cognito user pool', (id) => new HttpUserPoolAuthorizer(id, options.userPool, {
      userPoolClients: options.userPoolClients,
      userPoolRegion: options.userPoolRegion,
    }));
  }

  /**
   * No authorization: anyone may call the route. Allowed only on a route (`addLambdaRoute`,
   * `addService`, or one of a service's `routes`), never as the API's default; every such route
   * is named in the synth output and acknowledged for cdk-nag with the reason that the app asked
   * for it.
   */
  public static none(): ApiAuthorization {
    return new ApiAuthorization(ApiAuthorizationType.NONE, 'none', () => new apigwv2.HttpNoneAuthorizer());
  }

  private constructor(
    /** The kind of authorization. */
    public readonly authorizationType: ApiAuthorizationType,
    /** A short description, for messages. */
    public readonly description: string,
    private readonly factory: (id: string) => apigwv2.IHttpRouteAuthorizer,
  ) {
    checkBuiltByFactory('ApiAuthorization', authorizationType, 'ApiAuthorization.iam(), jwt(), cognito() or none()');
  }

  /**
   * A new route authorizer. A `SecureApi` creates one per `ApiAuthorization` and shares it
   * between its routes (one JWT authorizer resource per API, never shared between APIs).
   * @internal
   */
  public _createAuthorizer(id: string): apigwv2.IHttpRouteAuthorizer {
    return this.factory(id);
  }
}
