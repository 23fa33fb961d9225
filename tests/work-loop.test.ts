import { describe, expect, it, vi } from 'vitest';
import { type NextPass, WorkLoop } from '../src/background/work-loop.ts';

/** A pass that waits until the test lets it end, and counts how often it started. */
function controlledPass() {
  const ends: Array<(next: NextPass) => void> = [];
  const pass = vi.fn(() => new Promise<NextPass>((resolve) => ends.push(resolve)));
  return { pass, end: (next: NextPass) => ends.shift()?.(next) };
}

describe('a background work loop', () => {
  it('runs one more pass after nudges made during a pass, however many, never two at once', async () => {
    const { pass, end } = controlledPass();
    const loop = new WorkLoop(pass, () => null);
    loop.start();
    expect(pass).toHaveBeenCalledTimes(1);
    loop.nudge();
    loop.nudge();
    loop.nudge();
    expect(pass).toHaveBeenCalledTimes(1);
    end(null);
    await vi.waitFor(() => expect(pass).toHaveBeenCalledTimes(2));
    end(null);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pass).toHaveBeenCalledTimes(2);
    await loop.stop();
  });

  it('runs the next pass after the wait a pass asks for, and sleeps until nudged when it asks for none', async () => {
    const { pass, end } = controlledPass();
    const loop = new WorkLoop(pass, () => null);
    loop.start();
    end(5);
    await vi.waitFor(() => expect(pass).toHaveBeenCalledTimes(2));
    end(null);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(pass).toHaveBeenCalledTimes(2);
    loop.nudge();
    expect(pass).toHaveBeenCalledTimes(3);
    end(null);
    await loop.stop();
  });

  it("tells a failed pass's error to its owner, whose answer schedules the next pass", async () => {
    let calls = 0;
    const failed = vi.fn((_error: unknown): NextPass => 5);
    const loop = new WorkLoop(async () => {
      calls += 1;
      if (calls === 1) throw new Error('the store is away');
      return null;
    }, failed);
    loop.start();
    await vi.waitFor(() => expect(calls).toBe(2));
    expect(failed).toHaveBeenCalledTimes(1);
    expect(String(failed.mock.calls[0]?.[0])).toMatch(/the store is away/);
    await loop.stop();
  });

  it('stops: waits for the pass in flight, and starts none after, nudged or due', async () => {
    const { pass, end } = controlledPass();
    const loop = new WorkLoop(pass, () => null);
    loop.start();
    loop.nudge();
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stopped).toBe(false);
    end(1);
    await stopping;
    loop.nudge();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pass).toHaveBeenCalledTimes(1);
  });

  it('does nothing when nudged before it starts', () => {
    const pass = vi.fn(async (): Promise<NextPass> => null);
    new WorkLoop(pass, () => null).nudge();
    expect(pass).not.toHaveBeenCalled();
  });
});
