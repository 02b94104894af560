/**
 * The researcher: gathers what is known about the workflow's `topic` (tuned by `parameters`)
 * and writes the `research` artifact.
 */
import { researcher } from './spec';
import { lambdaHandler, main } from '../../kit/src';

export { researcher };

/** Lambda entry point: the event is the task envelope. */
export const handler = lambdaHandler(researcher);

if (require.main === module) main(researcher);
