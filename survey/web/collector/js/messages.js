// What the page says in the browser, in Japanese and (for the general form) English.
const MESSAGES = {
  length: {
    ja: "アクセスコードは13文字です（例: 7K3M-Q9TX-2B4R-H）。調査票をもう一度ご確認ください。",
    en: "An access code has 13 characters (e.g. 7K3M-Q9TX-2B4R-H). Please check your questionnaire.",
  },
  check: {
    ja: "アクセスコードに打ち間違いがあるようです。調査票の文字と見比べてください。",
    en: "The access code seems to contain a typo. Please compare it with your questionnaire.",
  },
  unknown: {
    ja: "このアクセスコードは見つかりません。調査票の文字と見比べてください。",
    en: "This access code was not found. Please compare it with your questionnaire.",
  },
  used: {
    ja: "このアクセスコードでは、すでに回答が届いています。ご協力ありがとうございました。",
    en: "Answers for this access code have already arrived. Thank you for taking part.",
  },
  paper: {
    ja: "この調査票は紙でのご回答をお願いしています。お手元の調査票にご記入のうえ、返信用封筒でお送りください。",
    en: "This questionnaire is answered on paper. Please fill it in and return it in the enclosed envelope.",
  },
  limited: {
    ja: "しばらく時間をおいてから、もう一度お試しください。",
    en: "Please wait a while and try again.",
  },
  busy: {
    ja: "ただいま混み合っています。回答は消えていません。少し待ってからもう一度送信してください。",
    en: "The server is busy. Your answers are still here; please send them again in a moment.",
  },
  network: {
    ja: "送信できませんでした。通信状態をご確認のうえ、もう一度送信してください。回答は消えていません。",
    en: "Your answers could not be sent. Please check your connection and try again; your answers are still here.",
  },
  failed: {
    ja: "送信できませんでした。お手数ですが紙の調査票でご回答ください。",
    en: "Your answers could not be sent. Please answer on the paper questionnaire instead.",
  },
  sending: { ja: "暗号化して送信しています…", en: "Encrypting and sending…" },
  checking: { ja: "確認しています…", en: "Checking…" },
  integer: { ja: "{min}から{max}までの整数で入力してください。", en: "Please enter a whole number from {min} to {max}." },
  picks: { ja: "選べるのは{maxPicks}つまでです。", en: "Please choose at most {maxPicks}." },
  tooLong: { ja: "{maxLength}文字までで入力してください。", en: "Please write at most {maxLength} characters." },
  invalid: { ja: "この回答はお受けできません。選び直してください。", en: "This answer cannot be accepted. Please choose again." },
  fix: { ja: "{n}か所、確認が必要な回答があります。", en: "{n} answer(s) need checking." },
  leave: { ja: "このページを離れると、入力した回答は失われます。", en: "If you leave this page, your answers will be lost." },
};

export function message(key, lang, values = {}) {
  const entry = MESSAGES[key];
  const text = (lang === "en" && entry.en) || entry.ja;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}
