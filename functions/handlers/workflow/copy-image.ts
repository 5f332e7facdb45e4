import { lambdaWorkflowTasks } from './lambda-tasks.js';

/** Step Functions task, the CopyImage state: see WorkflowTasks.copyImage. */
export const handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) =>
  lambdaWorkflowTasks().copyImage(event, context);
