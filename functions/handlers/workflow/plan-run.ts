import { lambdaServices } from '../lambda-root.js';

/** Step Functions task: see WorkflowTasks.plan. */
export const handler = (event: unknown) => lambdaServices().tasks.plan(event);
