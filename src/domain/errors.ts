// Errors with ECS wire names. Domain and API code throw these; the protocol layer turns them
// into `{"__type", "message"}` bodies. Internal failures (anything else) become ServerException.
import type { EcsErrorCode } from '../generated/ecs/types.js';

export type WireErrorCode =
  EcsErrorCode | 'UnknownOperationException' | 'SerializationException' | 'ValidationException';

export class EcsError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
    /** HTTP status: 400 for client mistakes; ServerException alone is a 500. */
    readonly httpStatus: number = code === 'ServerException' ? 500 : 400,
  ) {
    super(message);
    this.name = code;
  }
}

export const invalidParameter = (message: string): EcsError =>
  new EcsError('InvalidParameterException', message);
export const clientError = (message: string): EcsError => new EcsError('ClientException', message);
export const clusterNotFound = (message = 'Cluster not found.'): EcsError =>
  new EcsError('ClusterNotFoundException', message);
export const resourceNotFound = (message: string): EcsError =>
  new EcsError('ResourceNotFoundException', message);
export const serverError = (message: string): EcsError => new EcsError('ServerException', message);

export function isEcsError(e: unknown): e is EcsError {
  return e instanceof EcsError;
}
