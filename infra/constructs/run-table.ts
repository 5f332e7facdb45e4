import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { RunTable as Names } from '../../functions/contract.js';

/** Run state: one table, on-demand, PITR, encrypted, TTL on every run-scoped item. */
export class RunTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: Names.partitionKey, type: AttributeType.STRING },
      sortKey: { name: Names.sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: Names.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        {
          indexName: Names.listIndex,
          partitionKey: { name: Names.listPartitionKey, type: AttributeType.STRING },
          sortKey: { name: Names.listSortKey, type: AttributeType.STRING },
        },
        {
          // Sparse: only image items carry its key, so `?status=failed` reads the failed images only.
          indexName: Names.statusIndex,
          partitionKey: { name: Names.statusPartitionKey, type: AttributeType.STRING },
          sortKey: { name: Names.sortKey, type: AttributeType.STRING },
        },
      ],
    });
  }
}
