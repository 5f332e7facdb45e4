import { describe, expect, it } from 'vitest';
import * as undici from 'undici';
import AgentClass from 'undici/lib/dispatcher/agent.js';
import requestFunction from 'undici/lib/api/api-request.js';
import buildConnectorFunction from 'undici/lib/core/connect.js';

// transport.ts imports these three files of undici directly to keep the CLI bundle small.
describe('undici deep imports', () => {
  it('are the package’s own Agent, request and connector', () => {
    expect(AgentClass).toBe(undici.Agent);
    expect(requestFunction).toBe(undici.Dispatcher.prototype.request);
    expect(buildConnectorFunction).toBe(undici.buildConnector);
  });
});
