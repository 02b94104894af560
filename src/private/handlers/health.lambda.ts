import type { APIGatewayProxyResultV2 } from 'aws-lambda';

/** The body every health route answers with. */
export const HEALTHY = { status: 'ok' } as const;

/**
 * Health check: answers `{"status":"ok"}` with no state, no secrets and no dependencies,
 * so that it can sit on an unauthenticated route. Works for an HTTP API (payload v2)
 * integration and for a direct invoke alike.
 */
export async function handler(): Promise<APIGatewayProxyResultV2> {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(HEALTHY),
  };
}
