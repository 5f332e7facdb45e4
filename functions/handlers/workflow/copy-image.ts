import { lambdaWorkflowTasks } from './lambda-tasks.js';

/** Step Functions task, the CopyImage state: see WorkflowTasks.copyImage. */
export const handler = (event: unknown) => lambdaWorkflowTasks().copyImage(event);
