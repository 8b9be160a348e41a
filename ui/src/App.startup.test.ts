import { waitFor } from "@testing-library/svelte";
import { expect, test } from "vitest";

import { demoShell } from "./test/fixtures";
import { openApp } from "./test/render";

test("a task named at launch (--open-task) opens once the window is up", async () => {
  const shell = demoShell();
  const task = shell.tasks[3];
  if (!task) throw new Error("the demo fixture has tasks");
  shell.startupTask = task.id;
  const { app } = await openApp(shell);
  await waitFor(() => expect(app.detail.openId).toBe(task.id));
  expect(app.panel).toBe("detail");
  expect(shell.callsOf("startup_task")).toHaveLength(1);
});

test("without one, nothing opens", async () => {
  const shell = demoShell();
  const { app } = await openApp(shell);
  await waitFor(() => expect(shell.callsOf("startup_task")).toHaveLength(1));
  expect(app.panel).toBe(null);
});
