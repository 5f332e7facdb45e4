import { lambdaServices } from '../lambda-root.js';

/** Step Functions task: see WorkflowTasks.copyImage. */
export const handler = (event: unknown) => lambdaServices().tasks.copyImage(event);
