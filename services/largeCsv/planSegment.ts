/** Step Functions task (large-CSV loop): plan one segment of the CSV from its byte offset, within this invocation's time. */
import type { Context } from 'aws-lambda';
import { awsDependencies } from '../../shared/composition/aws';
import type { DependencyProvider, LargeCsvPlanState } from '../../shared/ports';
import { planSegment } from '../../shared/usecases/largeCsvPlan';

export type SegmentContext = Pick<Context, 'getRemainingTimeInMillis'>;

export function createHandler(provide: DependencyProvider) {
  return async (state: LargeCsvPlanState, context: SegmentContext): Promise<LargeCsvPlanState> => {
    const deps = await provide();
    const { segmentBudgetMs, segmentMarginMs } = deps.config.largeCsv;
    // Stop early enough to finish the chunk in hand and publish it before the Lambda timeout.
    const budgetMs = Math.min(segmentBudgetMs, context.getRemainingTimeInMillis() - segmentMarginMs);
    return planSegment(state, deps, budgetMs);
  };
}

export const handler = createHandler(awsDependencies);
