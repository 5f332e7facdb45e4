import { describe, expect, it } from 'vitest';
import { RequestGuard } from '../../../functions/local/request-guard.js';

describe('RequestGuard: content types of state-changing requests', () => {
  it.each([
    ['application/json', undefined],
    ['application/yaml', undefined],
    ['application/yaml; charset=utf-8', undefined],
    // Those a cross-site form sends without a preflight stay refused.
    ['text/plain', 415],
    ['application/x-www-form-urlencoded', 415],
    ['multipart/form-data; boundary=x', 415],
    ['text/yaml', 415],
  ])('PUT with %s → %s', (type, status) => {
    const guard = new RequestGuard('127.0.0.1', 8080, undefined);
    expect(guard.check({ method: 'PUT', headers: { host: '127.0.0.1:8080', 'content-type': type } })?.status).toBe(
      status,
    );
  });
});
