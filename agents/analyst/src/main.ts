/** The analyst: reads the `research` artifact and writes the `analysis` artifact. */
import { analyst } from './spec';
import { lambdaHandler, main } from '../../kit/src';

export { analyst };

/** Lambda entry point: the event is the task envelope. */
export const handler = lambdaHandler(analyst);

if (require.main === module) main(analyst);
