import { GraphQLError } from 'graphql';

/** The error codes a client may see; anything else is masked by yoga. */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  CONFLICT: 'CONFLICT',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  TOTP_REQUIRED: 'TOTP_REQUIRED',
  STEP_UP_REQUIRED: 'STEP_UP_REQUIRED',
  FAILED_PRECONDITION: 'FAILED_PRECONDITION',
  PASSWORD_CHANGE_REQUIRED: 'PASSWORD_CHANGE_REQUIRED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  TIMEOUT: 'TIMEOUT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const defaultMessages: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'Sign in to do this.',
  FORBIDDEN: 'You are not allowed to do this.',
  BAD_USER_INPUT: 'The input is not valid.',
  INVALID_CREDENTIALS: 'The tenant, email or password is wrong.',
  CONFLICT: 'This conflicts with existing data.',
  NOT_FOUND: 'Not found.',
  RATE_LIMITED: 'Too many attempts. Try again later.',
  TOTP_REQUIRED: 'A confirmation code is required to finish signing in.',
  STEP_UP_REQUIRED: 'Confirm it is you (password, and code when on) to do this, then try again.',
  FAILED_PRECONDITION: 'This cannot be done in the current state.',
  PASSWORD_CHANGE_REQUIRED: 'Set a new password to finish signing in.',
  SERVICE_UNAVAILABLE: 'The service is briefly unavailable. Try again shortly.',
  TIMEOUT: 'This took too long and was cancelled. Try a narrower request.',
};

/** How long a client should wait before trying again when the database is unreachable. */
export const RETRY_AFTER_UNAVAILABLE_SECONDS = 5;

export type ErrorExtensions = Record<string, unknown>;

/** An expected error: its message and code reach the client unmasked. */
export function clientError(code: ErrorCode, message = defaultMessages[code], extensions: ErrorExtensions = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export const notFound = () => clientError(ErrorCode.NOT_FOUND);
export const forbidden = (message?: string) => clientError(ErrorCode.FORBIDDEN, message);
export const failedPrecondition = (message?: string) => clientError(ErrorCode.FAILED_PRECONDITION, message);
export const conflict = (message?: string) => clientError(ErrorCode.CONFLICT, message);

export interface FieldProblem {
  field: string;
  message: string;
}

export function badInput(problems: FieldProblem[], message = defaultMessages.BAD_USER_INPUT): GraphQLError {
  return clientError(ErrorCode.BAD_USER_INPUT, message, { fields: problems });
}

/** `http` sets the answer's status and headers (graphql-yoga reads it and leaves it out of the body). */
const httpAnswer = (status: number, retryAfterSeconds: number) => ({ status, headers: { 'Retry-After': String(retryAfterSeconds) } });

export function rateLimited(retryAfterSeconds: number): GraphQLError {
  return clientError(ErrorCode.RATE_LIMITED, defaultMessages.RATE_LIMITED, { retryAfterSeconds, http: httpAnswer(429, retryAfterSeconds) });
}

/** A statement ran past the application's statement timeout and PostgreSQL cancelled it; nothing was written. */
export function timedOut(): GraphQLError {
  return clientError(ErrorCode.TIMEOUT, defaultMessages.TIMEOUT, { http: { status: 503 } });
}

/** The database is unreachable: 503 with Retry-After, which a load balancer and a client both understand. */
export function serviceUnavailable(): GraphQLError {
  const retryAfterSeconds = RETRY_AFTER_UNAVAILABLE_SECONDS;
  return clientError(ErrorCode.SERVICE_UNAVAILABLE, defaultMessages.SERVICE_UNAVAILABLE, { retryAfterSeconds, http: httpAnswer(503, retryAfterSeconds) });
}

/**
 * A sensitive field asked for a fresh proof of the user the session does not hold: stepUp, then send the
 * same request again (nothing ran, so nothing is lost or doubled).
 */
export function stepUpRequired(maxAgeSeconds: number): GraphQLError {
  return clientError(ErrorCode.STEP_UP_REQUIRED, defaultMessages.STEP_UP_REQUIRED, { maxAgeSeconds });
}
