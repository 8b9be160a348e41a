// Runs the Tauri CLI (its prebuilt native module from the npm registry) with
// this process's arguments: `node tauri.cjs build --bundles deb`. Only the
// Linux x64 module is installed, the one machine kind tasklane packages on.
const cli = require("@tauri-apps/cli-linux-x64-gnu");

cli.run(process.argv.slice(2), "tauri", (error) => {
  if (error) {
    cli.logError(error.message);
    process.exit(1);
  }
});
