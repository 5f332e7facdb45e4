import { type SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from '../runs/ports.js';

/** Starts runs on the deployed state machine; the execution name is the run id (idempotent). */
export class StepFunctionsWorkflow implements WorkflowStarter {
  readonly #client: SFNClient;
  readonly #stateMachineArn: string;
  constructor(client: SFNClient, stateMachineArn: string) {
    this.#client = client;
    this.#stateMachineArn = stateMachineArn;
  }
  async start(runId: string): Promise<string> {
    const res = await this.#client.send(
      new StartExecutionCommand({
        stateMachineArn: this.#stateMachineArn,
        name: runId,
        input: JSON.stringify({ runId }),
      }),
    );
    return res.executionArn ?? runId;
  }
  async stop(executionId: string): Promise<void> {
    await this.#client.send(
      new StopExecutionCommand({
        executionArn: executionId,
        error: 'Cancelled',
        cause: 'run cancelled through the API',
      }),
    );
  }
}
