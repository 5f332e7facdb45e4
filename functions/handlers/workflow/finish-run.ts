import { lambdaServices } from '../lambda-root.js';

/** Step Functions task: see WorkflowTasks.finish. */
export const handler = (event: unknown) => lambdaServices().tasks.finish(event);
