import type { Config } from '../../config.js';
import { type DeclaredFile, type DeclaredLimits, declaredSelfies } from '../../conversation/files.js';
import type { DownloadPolicy } from '../../conversation/requests.js';
import type { Logger } from '../../log.js';

/** The fields of a Slack file object the adapter reads (events, shortcuts and file_input all carry them). */
export interface SlackFile {
  id?: string;
  name?: string;
  mimetype?: string;
  filetype?: string;
  pretty_type?: string;
  size?: number;
  url_private_download?: string;
  url_private?: string;
}

/**
 * A Slack file as the conversation layer's declared file. Slack's own `filetype` stands in for the name's
 * extension: the user's file name never decides anything.
 */
export function declaredSlackFile(f: SlackFile): DeclaredFile {
  return {
    url: f.url_private_download ?? f.url_private,
    contentType: f.mimetype,
    name: f.filetype ? `file.${f.filetype.toLowerCase()}` : undefined,
    size: f.size,
    typeName: f.pretty_type ?? f.filetype,
  };
}

/**
 * The photos among a message's (or a form's) files, checked by the shared declared-file rules before anything is
 * downloaded. Returns the Slack files to download; throws the first problem.
 */
export function checkSlackFiles(files: readonly SlackFile[], limits: DeclaredLimits): SlackFile[] {
  const declared = files.map((file) => ({ ...declaredSlackFile(file), file }));
  return declaredSelfies(declared, limits, 'message').map((d) => d.file);
}

/**
 * How Slack private files are fetched: with the bot token, only from SLACK_FILE_HOSTS. Slack answers a request
 * without a valid token, or for a file the token may not read (missing `files:read`), with 200 and its HTML login
 * page: that is reported as a failed download (the user's photo is fine) and the operator is told in the log.
 */
export function slackDownloadPolicy(
  config: Pick<Config, 'SLACK_BOT_TOKEN' | 'SLACK_FILE_HOSTS' | 'PORTRAIT_MAX_INPUT_BYTES'>,
  log: Logger,
): DownloadPolicy {
  return {
    allowedHosts: config.SLACK_FILE_HOSTS,
    maxBytes: config.PORTRAIT_MAX_INPUT_BYTES,
    headers: config.SLACK_BOT_TOKEN ? { authorization: `Bearer ${config.SLACK_BOT_TOKEN}` } : {},
    onLoginPage: () =>
      log.warn(
        'slack: a file download answered with the Slack login page; check that the app has the files:read scope and SLACK_BOT_TOKEN is the bot token',
      ),
  };
}
