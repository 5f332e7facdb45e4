import { lambdaWorkflowTasks } from './lambda-tasks.js';

/** Step Functions task, the Plan state: see WorkflowTasks.plan. */
export const handler = (event: unknown) => lambdaWorkflowTasks().plan(event);
