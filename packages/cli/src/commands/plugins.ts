import { cliHost } from '../host.js';
import path from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../runtime/base-command.js';
import { EXIT_BAD_INPUT } from '../render/report-error.js';
import { formatOptionsTable, formatPluginList, pluginsAreUsable } from '../render/format-plugin-list.js';
import { listPipelinePlugins, resolvePlugin } from '@backupctl/core';

export default class Plugins extends BaseCommand {
  static override summary = 'List the plugins a pipeline uses: kind, package, version and where each was loaded from.';
  static override description =
    'Resolves every `use:` of the pipeline file as `run` would (built-in, @backupctl/plugin-<name>, ' +
    'backupctl-plugin-<name>, a package name, or a path relative to the file) without reading options or the ' +
    'environment. Exits 2 when a plugin cannot be loaded or is used as the wrong kind. With --schema, prints the ' +
    'options a plugin takes instead. Finds FILE as run does.';
  static override examples = [
    '<%= config.bin %> plugins',
    '<%= config.bin %> plugins examples/encrypted.yml --json',
    '<%= config.bin %> plugins --schema s3',
  ];
  static override args = {
    file: Args.string({ description: 'Pipeline file.' }),
  };
  static override flags = {
    json: Flags.boolean({ description: 'Print JSON: the plugin list, or with --schema the JSON Schema of the options.' }),
    schema: Flags.string({
      description: 'Print the options of this plugin (a name as in `use:`; paths are relative to FILE, else the current directory).',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Plugins);
    const cwd = process.cwd();
    if (flags.schema !== undefined) {
      const baseDir = args.file ? path.dirname(path.resolve(cwd, args.file)) : cwd;
      const { definition } = await resolvePlugin(flags.schema, baseDir, cliHost());
      if (flags.json) this.printJson(definition.schema);
      else this.print(formatOptionsTable(definition.name, definition.schema));
      return;
    }
    const listing = await listPipelinePlugins({ host: cliHost(), file: args.file, cwd });
    if (flags.json) this.printJson(listing);
    else this.print(formatPluginList(listing, cwd));
    if (!pluginsAreUsable(listing)) this.exit(EXIT_BAD_INPUT);
  }
}
