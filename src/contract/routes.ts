/**
 * The routes of the workflow API, once for both sides: the DurableOrchestrator construct creates an
 * HTTP API route for each and grants them by group; the runtime's API handler routes requests with
 * the same table and names them in its 404 answer.
 */

/**
 * Who may call a route: each group is one `grantXxx` method of the orchestrator, except `link`:
 * the approval link routes, which need no AWS credentials (the token in the path is signed) and
 * exist only on an orchestrator with approval links.
 */
export type RouteGroup = 'start' | 'read' | 'approve' | 'callback' | 'link' | 'killSwitch';

/** What the API handler does for a route. */
export type RouteOperation = 'startWorkflow' | 'listWorkflows' | 'getWorkflow' | 'approve' | 'cancel' | 'report' | 'heartbeat'
  | 'approvalLinkPage' | 'approvalLinkDecide' | 'getKillSwitch' | 'setKillSwitch';

export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** The path under the API's base path, with `{name}` for a path parameter (API Gateway's syntax). */
  readonly path: string;
  readonly group: RouteGroup;
  readonly operation: RouteOperation;
}

export const ROUTES: readonly RouteDefinition[] = [
  { method: 'POST', path: '/workflows', group: 'start', operation: 'startWorkflow' },
  { method: 'GET', path: '/workflows', group: 'read', operation: 'listWorkflows' },
  { method: 'GET', path: '/workflows/{id}', group: 'read', operation: 'getWorkflow' },
  { method: 'POST', path: '/workflows/{id}/approval', group: 'approve', operation: 'approve' },
  { method: 'POST', path: '/workflows/{id}/cancel', group: 'approve', operation: 'cancel' },
  { method: 'POST', path: '/callbacks/{callbackId}', group: 'callback', operation: 'report' },
  { method: 'POST', path: '/callbacks/{callbackId}/heartbeat', group: 'callback', operation: 'heartbeat' },
  { method: 'GET', path: '/approvals/{token}', group: 'link', operation: 'approvalLinkPage' },
  { method: 'POST', path: '/approvals/{token}', group: 'link', operation: 'approvalLinkDecide' },
  { method: 'GET', path: '/admin/kill-switch', group: 'killSwitch', operation: 'getKillSwitch' },
  { method: 'PUT', path: '/admin/kill-switch', group: 'killSwitch', operation: 'setKillSwitch' },
];

/** The routes of one group. */
export function routesOf(group: RouteGroup): RouteDefinition[] {
  return ROUTES.filter((r) => r.group === group);
}

/** A regular expression matching the route's path (one capture group per path parameter, in order). */
export function routePattern(route: RouteDefinition): RegExp {
  return new RegExp(`^${route.path.replace(/\{[^}]+\}/g, '([^/]+)')}$`);
}

/** The path as people read it in messages: parameters in snake case (`{callback_id}`). */
export function displayPath(route: RouteDefinition, basePath = ''): string {
  return `${basePath}${route.path.replace(/\{([^}]+)\}/g, (_, name: string) => `{${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}}`)}`;
}

/** The path with each parameter as `*`, as an `execute-api` resource names any value of it. */
export function grantPath(route: RouteDefinition, basePath = ''): string {
  return `${basePath}${route.path.replace(/\{[^}]+\}/g, '*')}`;
}
