import type { FieldError } from '#rounds/plugins';

/** Input that failed validation; controllers turn it into a 400 with the field errors. */
export class ValidationFailedError extends Error {
  constructor(
    message: string,
    readonly errors: FieldError[],
  ) {
    super(message);
  }
}

export class NotFoundError extends Error {}

/** The request clashes with what is stored (a taken name, a state that forbids it); `field` names the input at fault. */
export class ConflictError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
