import { CfnEventBusPolicy, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export const syncRequestDetailType = 'Ferry Sync Requested';

export interface SyncBusProps {
  readonly handler: IFunction;
  readonly trustedAccounts: readonly string[];
  readonly trustedOrganizationId?: string;
}

/**
 * The Ferry event bus: `Ferry Run Finished` events go out on it; other accounts (or the whole
 * organization) may put `Ferry Sync Requested` events on it, which start runs.
 */
export class SyncBus extends Construct {
  readonly bus: EventBus;

  constructor(scope: Construct, id: string, props: SyncBusProps) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { description: 'Ferry run events and cross-account sync requests' });
    props.trustedAccounts.forEach(
      (account, i) =>
        new CfnEventBusPolicy(this, `Account${i}`, {
          eventBusName: this.bus.eventBusName,
          statementId: `ferry-sync-${account}`,
          action: 'events:PutEvents',
          principal: account,
        }),
    );
    if (props.trustedOrganizationId) {
      new CfnEventBusPolicy(this, 'Organization', {
        eventBusName: this.bus.eventBusName,
        statementId: 'ferry-sync-organization',
        statement: {
          Effect: 'Allow',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: this.bus.eventBusArn,
          Condition: { StringEquals: { 'aws:PrincipalOrgID': props.trustedOrganizationId } },
        },
      });
    }
    new Rule(this, 'SyncRequests', {
      eventBus: this.bus,
      description: 'Start a Ferry run for each sync request',
      eventPattern: { detailType: [syncRequestDetailType] },
      targets: [new LambdaFunction(props.handler, { retryAttempts: 2 })],
    });
  }
}
