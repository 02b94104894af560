import * as path from 'path';
import { handler, HEALTHY } from '../../src/private/handlers/health.lambda';

describe('health handler', () => {
  test('answers 200 with {"status":"ok"} as JSON, never cached', async () => {
    const res = await handler();
    expect(res).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"status":"ok"}',
    });
    expect(HEALTHY).toEqual({ status: 'ok' });
  });

  test('the bundled asset (what Lambda runs) behaves the same as the source', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(path.join(__dirname, '..', '..', 'assets', 'private', 'handlers', 'health.lambda', 'index.js'));
    expect(await bundled.handler()).toEqual(await handler());
  });
});
