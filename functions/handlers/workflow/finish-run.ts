import { lambdaWorkflowTasks } from './lambda-tasks.js';

/** Step Functions task, the Finish state: see WorkflowTasks.finish. */
export const handler = (event: unknown) => lambdaWorkflowTasks().finish(event);
