// prompts.js: which system prompt (if any) goes with the next message (the rule of the /api contract).
//
//   send?  conversation settings.send_system_prompt  >  the model's `send` (the server's default for a model
//          without a stored toggle: off for DeepSeek-R1-Distill models, on for others)  >  same rule by name
//   text   conversation settings.system_prompt  >  the model's prompt  >  the default prompt (empty: none sent)
// (DeepSeek recommends no system prompt for R1 and its distills: instructions go in the user turn.)
export const MODES = ['auto', 'expert', 'daily'];
// The model name a request carries for a mode (the router's names), or the model itself.
export const requestModel = (mode) => (MODES.includes(mode) ? `duet-${mode}` : mode);

export function isR1Distill(modelName) {
  return /deepseek[-_ ]?r1[-_ ]?distill/i.test(String(modelName || ''));
}

const isToggle = (v) => v === true || v === false;

// prompts: GET /api/system-prompts ({default: {prompt, send}, models: [{model, prompt, send}]});
// settings: the conversation's settings; model: the model the message goes to.
// -> {send, text, source ('conversation' | 'model' | 'default' | 'none'), sent (string or null)}
export function resolveSystemPrompt(prompts, settings, model) {
  const entry = ((prompts && prompts.models) || []).find((m) => m.model === model) || {};
  const fallback = (prompts && prompts.default) || {};
  const s = settings || {};
  let send = isToggle(s.send_system_prompt) ? s.send_system_prompt : entry.send;
  if (!isToggle(send)) send = isR1Distill(model) ? false : isToggle(fallback.send) ? fallback.send : true;
  let text = '', source = 'none';
  if (s.system_prompt) { text = s.system_prompt; source = 'conversation'; }
  else if (entry.prompt) { text = entry.prompt; source = 'model'; }
  else if (fallback.prompt) { text = fallback.prompt; source = 'default'; }
  return { send, text, source, sent: send && text ? text : null };
}

// The messages sent to /v1/chat/completions: the system prompt (when sent), then the turns (no reasoning).
export function buildRequestMessages(history, systemPrompt) {
  const messages = [];
  if (systemPrompt) messages.push({ role: 'system', content: systemPrompt });
  for (const m of history) {
    if (m.role === 'user' || m.role === 'assistant') messages.push({ role: m.role, content: m.content || '' });
  }
  return messages;
}
