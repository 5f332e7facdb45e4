import { lambdaServices } from '../lambda-root.js';

/** Step Functions task: see WorkflowTasks.recordFailure. */
export const handler = (event: unknown) => lambdaServices().tasks.recordFailure(event);
