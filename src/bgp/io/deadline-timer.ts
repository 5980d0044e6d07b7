// One timer for the next deadline of a pure state machine (`nextDeadline()` → `tick(now)`).

export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private at = Infinity;

  /** `clock` in ms (the clock the deadlines are on); `unref`: the timer alone keeps no process alive. */
  constructor(
    private readonly clock: () => number,
    private readonly fire: () => void,
    private readonly unref = false,
  ) {}

  /**
   * Arms the timer for deadline `d` (undefined: none). An armed timer that fires no later is
   * kept: firing early costs one tick that finds nothing due and re-arms, while replacing the
   * timer at every change (an UPDATE sent, a MAC learned) would cost a Timeout each.
   */
  arm(d: number | undefined): void {
    if (this.timer !== undefined) {
      if (d !== undefined && d >= this.at) return;
      this.clear();
    }
    if (d === undefined) return;
    this.at = d;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.at = Infinity;
        this.fire();
      },
      Math.max(0, Math.ceil(d - this.clock())),
    );
    if (this.unref) this.timer.unref();
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.at = Infinity;
  }
}
