import type { types } from '@slack/bolt';
import type { PresetInfo } from '../../conversation/catalogue.js';
import { ACTION_LABELS, type HelpSection, JOB_STATE_WORDS, queuedText } from '../../conversation/present.js';
import { parseStyle } from '../../core/style.js';
import type { JobSummary } from '../../queue/service.js';
import { bold, escapeMrkdwn, helpToMrkdwn } from './mrkdwn.js';
import { encodeState, type SlackButtonState } from './state.js';

/** Block Kit for everything the Slack adapter shows. Every user-influenced string goes through escapeMrkdwn. */

type KnownBlock = types.KnownBlock;
type View = types.View;
type PlainTextOption = types.PlainTextOption;

export const ACTION_IDS = {
  reroll: 'portrait_reroll',
  variations: 'portrait_variations',
  relight: 'portrait_relight',
  delete: 'portrait_delete',
  cancel: 'portrait_cancel',
  forget: 'portrait_forget',
} as const;

export const CALLBACK_IDS = {
  modal: 'portrait_modal',
  shortcut: 'make_portrait',
} as const;

export const MODAL_FIELDS = {
  selfies: { block: 'selfies', action: 'selfies' },
  pose: { block: 'pose', action: 'pose' },
  lighting: { block: 'lighting', action: 'lighting' },
  style: { block: 'style', action: 'style' },
  styleText: { block: 'style_text', action: 'style_text' },
  variations: { block: 'variations', action: 'variations' },
} as const;

const plain = (text: string) => ({ type: 'plain_text' as const, text: text.slice(0, 75), emoji: true });
const mrkdwnSection = (text: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: text.slice(0, 3000) },
});

/** Static-select options (Slack: at most 100, labels of at most 75 characters, values of at most 150). */
export function presetOptions(presets: readonly PresetInfo[]): PlainTextOption[] {
  return presets.slice(0, 100).map((p) => ({
    text: plain(p.name),
    value: p.name.slice(0, 150),
    ...(p.description ? { description: plain(p.description) } : {}),
  }));
}

/** The message under the uploaded portrait(s): caption and the four controls. */
export function resultBlocks(caption: string, state: SlackButtonState, lightings: readonly PresetInfo[]): KnownBlock[] {
  const value = encodeState(state);
  return [
    mrkdwnSection(escapeMrkdwn(caption)),
    {
      type: 'actions',
      block_id: 'portrait_actions',
      elements: [
        { type: 'button', action_id: ACTION_IDS.reroll, text: plain(ACTION_LABELS.reroll), value },
        { type: 'button', action_id: ACTION_IDS.variations, text: plain(ACTION_LABELS.variations), value },
        {
          type: 'static_select',
          action_id: ACTION_IDS.relight,
          placeholder: plain(ACTION_LABELS.relight),
          options: presetOptions(lightings),
        },
        {
          type: 'button',
          action_id: ACTION_IDS.delete,
          text: plain(ACTION_LABELS.delete),
          style: 'danger',
          value,
          confirm: {
            title: plain('Delete this portrait?'),
            text: { type: 'plain_text', text: 'The portrait files are removed from Slack.' },
            confirm: plain('Delete'),
            deny: plain('Keep'),
          },
        },
      ],
    },
  ];
}

export interface ModalOptions {
  poses: readonly PresetInfo[];
  lightings: readonly PresetInfo[];
  /** The style catalogue for the menu; free text goes in the field below it. */
  styles?: readonly PresetInfo[];
  /** Opaque JSON the submission handler reads back (channel, source message ...), at most 3000 characters. */
  privateMetadata: string;
  /** The /portrait modal asks for files; the shortcut modal uses the message's. */
  withFileInput: boolean;
  maxSelfies: number;
  maxVariations: number;
  initial?: { pose?: string | undefined; lighting?: string | undefined; style?: string | undefined };
  /** Shown at the top (the shortcut says how many photos it found). */
  note?: string;
}

export function portraitModal(o: ModalOptions): View {
  const poseOptions = presetOptions(o.poses);
  const lightOptions = presetOptions(o.lightings);
  const initialPose = poseOptions.find((x) => x.value === o.initial?.pose);
  const initialLight = lightOptions.find((x) => x.value === o.initial?.lighting);
  const styleOptions = presetOptions(o.styles ?? []);
  // A catalogue style (any spelling: "pop art" is comic) pre-selects the menu; anything else (a combination, free
  // words) pre-fills the text field.
  const parsedStyle = o.initial?.style ? parseStyle(o.initial.style) : undefined;
  const initialStyle = styleOptions.find((x) => parsedStyle?.ok && x.value === parsedStyle.value.label);
  const initialStyleText = initialStyle ? undefined : o.initial?.style?.slice(0, 500);
  const blocks: KnownBlock[] = [];
  if (o.note) blocks.push(mrkdwnSection(escapeMrkdwn(o.note)));
  if (o.withFileInput) {
    blocks.push({
      type: 'input',
      block_id: MODAL_FIELDS.selfies.block,
      label: plain(`Selfies (1 to ${o.maxSelfies})`),
      hint: plain('Clear photos of your face; several angles keep your likeness better.'),
      element: {
        type: 'file_input',
        action_id: MODAL_FIELDS.selfies.action,
        filetypes: ['jpg', 'jpeg', 'png', 'webp', 'gif', 'avif'],
        max_files: o.maxSelfies,
      },
    });
  }
  blocks.push(
    {
      type: 'input',
      block_id: MODAL_FIELDS.pose.block,
      optional: true,
      label: plain('Pose'),
      element: {
        type: 'static_select',
        action_id: MODAL_FIELDS.pose.action,
        placeholder: plain('front'),
        options: poseOptions,
        ...(initialPose ? { initial_option: initialPose } : {}),
      },
    },
    {
      type: 'input',
      block_id: MODAL_FIELDS.lighting.block,
      optional: true,
      label: plain('Lighting'),
      element: {
        type: 'static_select',
        action_id: MODAL_FIELDS.lighting.action,
        placeholder: plain('studio'),
        options: lightOptions,
        ...(initialLight ? { initial_option: initialLight } : {}),
      },
    },
    ...(styleOptions.length > 0
      ? [
          {
            type: 'input',
            block_id: MODAL_FIELDS.style.block,
            optional: true,
            label: plain('Style'),
            element: {
              type: 'static_select',
              action_id: MODAL_FIELDS.style.action,
              placeholder: plain('the photo as it is'),
              options: styleOptions,
              ...(initialStyle ? { initial_option: initialStyle } : {}),
            },
          } satisfies KnownBlock,
        ]
      : []),
    {
      type: 'input',
      block_id: MODAL_FIELDS.styleText.block,
      optional: true,
      label: plain(styleOptions.length > 0 ? 'Or describe a style' : 'Style'),
      hint: plain('Combine a look and a backdrop, e.g. "black and white, studio grey".'),
      element: {
        type: 'plain_text_input',
        action_id: MODAL_FIELDS.styleText.action,
        max_length: 500,
        placeholder: plain('e.g. warm film, studio beige'),
        ...(initialStyleText ? { initial_value: initialStyleText } : {}),
      },
    },
    {
      type: 'input',
      block_id: MODAL_FIELDS.variations.block,
      optional: true,
      label: plain('Variations'),
      element: {
        type: 'static_select',
        action_id: MODAL_FIELDS.variations.action,
        placeholder: plain('1'),
        options: Array.from({ length: o.maxVariations }, (_, i) => ({
          text: plain(String(i + 1)),
          value: String(i + 1),
        })),
      },
    },
  );
  return {
    type: 'modal',
    callback_id: CALLBACK_IDS.modal,
    title: plain('Make a portrait'),
    submit: plain('Make portrait'),
    close: plain('Cancel'),
    private_metadata: o.privateMetadata.slice(0, 3000),
    blocks,
  };
}

/** One line per job, with a Cancel button for the ones still waiting or running. */
export function jobBlocks(jobs: readonly JobSummary[]): KnownBlock[] {
  if (jobs.length === 0) return [mrkdwnSection('_No portraits yet._')];
  return jobs.slice(0, 20).map((j) => {
    const when = `<!date^${Math.floor(j.submittedAt / 1000)}^{date_short_pretty} {time}|${new Date(j.submittedAt).toISOString()}>`;
    const where = j.state === 'queued' ? ` · ${queuedText(j.position)}` : '';
    const text = `${bold(j.pose)} in ${bold(j.lighting)} light · ${JOB_STATE_WORDS[j.state]}${escapeMrkdwn(where)} · ${when}`;
    const live = j.state === 'queued' || j.state === 'running';
    return {
      type: 'section',
      text: { type: 'mrkdwn', text },
      ...(live
        ? {
            accessory: {
              type: 'button',
              action_id: ACTION_IDS.cancel,
              text: plain('Cancel'),
              value: j.jobId.slice(0, 2000),
            },
          }
        : {}),
    } as KnownBlock;
  });
}

/** Help as blocks, one section per help section (Slack caps a section's text at 3000 characters). */
export function helpBlocks(sections: readonly HelpSection[]): KnownBlock[] {
  return helpToMrkdwn(sections).map(mrkdwnSection);
}

export function homeView(sections: readonly HelpSection[], jobs: readonly JobSummary[]): View {
  return {
    type: 'home',
    blocks: [
      { type: 'header', text: plain('Portrait bot') },
      mrkdwnSection('Turns your selfies into portraits in the pose and lighting you choose.'),
      { type: 'divider' },
      { type: 'header', text: plain('Your recent portraits') },
      ...jobBlocks(jobs),
      { type: 'divider' },
      ...helpBlocks(sections),
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: ACTION_IDS.forget,
            text: plain('Delete everything about me'),
            style: 'danger',
            value: 'forget',
            confirm: {
              title: plain('Delete everything?'),
              text: { type: 'plain_text', text: 'Your stored selfies, portraits and job records are deleted now.' },
              confirm: plain('Delete'),
              deny: plain('Keep'),
            },
          },
        ],
      },
    ].slice(0, 100) as KnownBlock[],
  };
}

/** The fallback text of the result message (notifications, screen readers). */
export function resultFallback(caption: string): string {
  return escapeMrkdwn(caption);
}
