/**
 * A sensitive request refused with STEP_UP_REQUIRED waits here while the dialog (StepUpDialog) asks the
 * user to prove who they are; then gql sends the same request again, so no action is lost. Requests
 * refused at the same time share one dialog.
 */
export const stepUp = $state({ asking: false });

const waiting: Array<(proved: boolean) => void> = [];

/** Resolves true once the user proved who they are, false when they gave up. */
export function askForProof(): Promise<boolean> {
  stepUp.asking = true;
  return new Promise((resolve) => waiting.push(resolve));
}

export function answerProof(proved: boolean): void {
  stepUp.asking = false;
  for (const resolve of waiting.splice(0)) resolve(proved);
}
