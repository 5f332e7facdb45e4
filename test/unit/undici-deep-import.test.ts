import { describe, expect, it } from 'vitest';
import * as undici from 'undici';
import AgentClass from 'undici/lib/dispatcher/agent.js';
import requestFunction from 'undici/lib/api/api-request.js';

// transport.ts imports these two files of undici directly to keep the CLI bundle small.
describe('undici deep imports', () => {
  it('are the package’s own Agent and request', () => {
    expect(AgentClass).toBe(undici.Agent);
    expect(requestFunction).toBe(undici.Dispatcher.prototype.request);
  });
});
