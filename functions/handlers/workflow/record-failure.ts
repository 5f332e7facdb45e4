import { lambdaWorkflowTasks } from './lambda-tasks.js';

/** Step Functions task, the RecordFailure state: see WorkflowTasks.recordFailure. */
export const handler = (event: unknown) => lambdaWorkflowTasks().recordFailure(event);
