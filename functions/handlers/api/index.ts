import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { lambdaLogger, lambdaServices } from '../lambda-root.js';
import { route } from './router.js';
import { routePath } from './stage.js';

/** The API Lambda (API Gateway REST proxy, IAM auth). */
export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const { service, sets, outputs } = lambdaServices();
  return route({ ...event, path: routePath(event.path) }, service, lambdaLogger, sets, outputs);
};
