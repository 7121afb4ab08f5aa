/**
 * After a navigation (not on the first screen), focus moves to the new screen so keyboard and
 * screen-reader users land on it rather than on the link they left. Call it while a component initialises.
 */
export function focusOnNavigation(current: () => unknown, landing: () => HTMLElement | undefined): void {
  let shown: unknown = null;
  $effect(() => {
    const screen = current();
    if (shown && shown !== screen) landing()?.focus();
    shown = screen;
  });
}
