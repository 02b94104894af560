import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { RouteGroup, routesOf, ROUTES } from '../contract/routes';
import { SERVICE_NAMES } from '../contract/status';

// The routes of an orchestrator's API by grant group, from the contract's route table (which the
// API handler routes with): used by the construct that creates the routes and by every grant (of
// the construct and of an import). Not part of the public API.

/** One route of the orchestrator's API. */
export interface RouteSpec {
  readonly method: apigwv2.HttpMethod;
  readonly path: string;
}

function specs(group?: RouteGroup): RouteSpec[] {
  return (group ? routesOf(group) : [...ROUTES]).map((r) => ({ method: apigwv2.HttpMethod[r.method], path: r.path }));
}

/** The routes every orchestrator has (IAM authorization): all but the approval link routes. */
export const ALL_ROUTES: RouteSpec[] = ROUTES.filter((r) => r.group !== 'link').map((r) => ({ method: apigwv2.HttpMethod[r.method], path: r.path }));
/** The approval link routes: no AWS authorization (the token is verified), only with approval links. */
export const LINK_ROUTES: RouteSpec[] = specs('link');
export const START_ROUTES: RouteSpec[] = specs('start');
export const READ_ROUTES: RouteSpec[] = specs('read');
export const APPROVE_ROUTES: RouteSpec[] = specs('approve');
export const CALLBACK_ROUTES: RouteSpec[] = specs('callback');
export const KILL_SWITCH_ROUTES: RouteSpec[] = specs('killSwitch');

/** The service dimension the controller's metrics carry (Powertools `serviceName`). */
export const CONTROLLER_SERVICE = SERVICE_NAMES.controller;
