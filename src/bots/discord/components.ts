import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIComponentInMessageActionRow,
  ButtonStyle,
  ComponentType,
} from 'discord.js';
import type { PresetInfo } from '../../conversation/catalogue.js';
import { ACTION_LABELS } from '../../conversation/present.js';
import type { JobSummary } from '../../queue/service.js';
import { type ComponentAction, encodeComponentId } from './ids.js';

/** Message components as plain API JSON (usable in interaction replies and in REST bodies alike). */
type Row = APIActionRowComponent<APIComponentInMessageActionRow>;

function button(
  action: ComponentAction,
  arg: string,
  label: string,
  style: ButtonStyle,
): APIButtonComponent | undefined {
  const custom_id = encodeComponentId(action, arg);
  if (!custom_id) return undefined;
  return { type: ComponentType.Button, style: style as ButtonStyle.Primary, label, custom_id };
}

function row(components: Array<APIComponentInMessageActionRow | undefined>): Row | undefined {
  const present = components.filter((c): c is APIComponentInMessageActionRow => c !== undefined);
  return present.length ? { type: ComponentType.ActionRow, components: present } : undefined;
}

const rows = (list: Array<Row | undefined>): Row[] => list.filter((r): r is Row => r !== undefined);

/**
 * Buttons under a finished portrait: Reroll, Variations, Delete, and a Relight menu of lighting presets. Redo
 * actions carry the recipe key; Delete carries the requester's id. Anything whose id would not fit is left out.
 */
export function resultComponents(recipeKey: string, ownerId: string, lightings: readonly PresetInfo[]): Row[] {
  const redo = recipeKey
    ? [
        button('reroll', recipeKey, ACTION_LABELS.reroll, ButtonStyle.Primary),
        button('vary', recipeKey, ACTION_LABELS.variations, ButtonStyle.Secondary),
      ]
    : [];
  const relightId = recipeKey ? encodeComponentId('relight', recipeKey) : undefined;
  return rows([
    row([...redo, button('delete', ownerId, ACTION_LABELS.delete, ButtonStyle.Danger)]),
    relightId && lightings.length
      ? row([
          {
            type: ComponentType.StringSelect,
            custom_id: relightId,
            placeholder: `${ACTION_LABELS.relight} with another lighting...`,
            min_values: 1,
            max_values: 1,
            options: lightings.slice(0, 25).map((l) => ({
              label: l.name.slice(0, 100),
              value: l.name.slice(0, 100),
              description: l.description.slice(0, 100),
            })),
          },
        ])
      : undefined,
  ]);
}

/** The Cancel button on a status message while the job waits or runs. */
export function cancelComponents(jobId: string): Row[] {
  return rows([row([button('cancel', jobId, 'Cancel', ButtonStyle.Secondary)])]);
}

/** One Cancel button per open job (numbered like the lines of the status text), at most 25. */
export function statusComponents(jobs: readonly JobSummary[]): Row[] {
  const buttons = jobs
    .map((j, i) => ({ j, i }))
    .filter(({ j }) => j.state === 'queued' || j.state === 'running')
    .slice(0, 25)
    .map(({ j, i }) => button('cancel', j.jobId, `Cancel ${i + 1}`, ButtonStyle.Secondary));
  const out: Array<Row | undefined> = [];
  for (let k = 0; k < buttons.length; k += 5) out.push(row(buttons.slice(k, k + 5)));
  return rows(out);
}

export function forgetComponents(userId: string): Row[] {
  return rows([
    row([
      button('forget', userId, 'Delete everything about me', ButtonStyle.Danger),
      button('keep', userId, 'Keep', ButtonStyle.Secondary),
    ]),
  ]);
}
