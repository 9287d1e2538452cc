//! The words of every locale. Written for this project (not copied from
//! Twilio's templates) in the way verification messages in each language
//! usually read: short, the code last where the grammar allows, the
//! friendly name where the English text has it. Not reviewed by native
//! speakers (README, "Locales").
//!
//! The SMS texts are kept short enough for one SMS segment with a 30-letter
//! name and a 6-digit code in any alphabet, at most two with a 10-digit code
//! (the test `sms_texts_fit_the_segment_budget` holds every entry to it).
//! Voices are the Amazon Polly voices End User Messaging's `VoiceId` offers;
//! a locale without one is read in the fallback ([`super::for_call`]).

use super::{Locale, Voice};

const fn l(tag: &'static str, name: &'static str, sms: &'static str, subject: &'static str, ignore: &'static str) -> Locale {
    Locale { tag, name, rtl: false, sms, subject, ignore, voice: None }
}

#[cfg_attr(not(feature = "locales"), allow(dead_code))]
const fn rtl(locale: Locale) -> Locale {
    Locale { rtl: true, ..locale }
}

const fn voiced(locale: Locale, id: &'static str, again: &'static str) -> Locale {
    Locale { voice: Some(Voice { id, again }), ..locale }
}

/// English: the fallback, and the only locale of a binary built without
/// the `locales` feature.
const ENGLISH: Locale = voiced(
    l(
        "en",
        "English",
        "Your {name} verification code is: {code}",
        "Your {name} verification code",
        "If you did not request this code, you can ignore this email.",
    ),
    "JOANNA",
    "Once again, your code is: {code}",
);

/// A function that sends no message (check-verify, webhook-report) is
/// built without the `locales` feature and links English alone: the table
/// is ~30 KB of text, more than webhook-report's size margin.
#[cfg(not(feature = "locales"))]
pub static LOCALES: &[Locale] = &[ENGLISH];

/// Every locale, English first (the fallback). Twilio's lists: its default
/// SMS templates (41 tags), its voice templates (adds `en-GB`) and its
/// WhatsApp copy-code templates (the rest); tags as Twilio writes them.
#[cfg(feature = "locales")]
pub static LOCALES: &[Locale] = &[
    ENGLISH,
    voiced(
        l(
            "en-GB",
            "English (UK)",
            "Your {name} verification code is: {code}",
            "Your {name} verification code",
            "If you did not request this code, you can ignore this email.",
        ),
        "AMY",
        "Once again, your code is: {code}",
    ),
    l(
        "af",
        "Afrikaans",
        "Jou {name}-verifikasiekode is: {code}",
        "Jou {name}-verifikasiekode",
        "As jy nie hierdie kode aangevra het nie, kan jy hierdie e-pos ignoreer.",
    ),
    l(
        "sq",
        "Albanian",
        "Kodi i verifikimit për {name}: {code}",
        "Kodi i verifikimit për {name}",
        "Nëse nuk e keni kërkuar këtë kod, mund ta shpërfillni këtë email.",
    ),
    rtl(voiced(
        l("ar", "Arabic", "رمز التحقق من {name} هو: {code}", "رمز التحقق من {name}", "إذا لم تطلب هذا الرمز، يمكنك تجاهل هذه الرسالة."),
        "ZEINA",
        "مرة أخرى، رمزك هو: {code}",
    )),
    l(
        "az",
        "Azerbaijani",
        "{name} təsdiq kodunuz: {code}",
        "{name} təsdiq kodunuz",
        "Bu kodu siz tələb etməmisinizsə, bu e-poçtu nəzərə almaya bilərsiniz.",
    ),
    l(
        "bg",
        "Bulgarian",
        "Код за потвърждение за {name}: {code}",
        "Код за потвърждение за {name}",
        "Ако не сте поискали този код, можете да пренебрегнете този имейл.",
    ),
    l(
        "bn",
        "Bengali",
        "আপনার {name} যাচাইকরণ কোড: {code}",
        "আপনার {name} যাচাইকরণ কোড",
        "আপনি যদি এই কোডের অনুরোধ না করে থাকেন, তাহলে এই ইমেলটি উপেক্ষা করতে পারেন।",
    ),
    l(
        "ca",
        "Catalan",
        "El codi de verificació de {name} és: {code}",
        "Codi de verificació de {name}",
        "Si no has sol·licitat aquest codi, pots ignorar aquest correu.",
    ),
    voiced(
        l("zh", "Chinese (Simplified)", "您的{name}验证码是：{code}", "您的{name}验证码", "如果您没有请求此验证码，请忽略此邮件。"),
        "ZHIYU",
        "再说一遍，您的验证码是：{code}",
    ),
    l("zh-HK", "Chinese (Hong Kong)", "你的{name}驗證碼為：{code}", "你的{name}驗證碼", "如你沒有要求此驗證碼，請忽略此電郵。"),
    l("zh-TW", "Chinese (Taiwan)", "您的{name}驗證碼是：{code}", "您的{name}驗證碼", "如果您沒有要求這組驗證碼，請忽略這封電子郵件。"),
    l(
        "hr",
        "Croatian",
        "Vaš kod za potvrdu za {name} je: {code}",
        "Kod za potvrdu za {name}",
        "Ako niste zatražili ovaj kod, možete zanemariti ovu poruku e-pošte.",
    ),
    l(
        "cs",
        "Czech",
        "Váš ověřovací kód pro {name} je: {code}",
        "Ověřovací kód pro {name}",
        "Pokud jste o tento kód nežádali, můžete tento e-mail ignorovat.",
    ),
    voiced(
        l(
            "da",
            "Danish",
            "Din bekræftelseskode til {name} er: {code}",
            "Din bekræftelseskode til {name}",
            "Hvis du ikke har bedt om denne kode, kan du ignorere denne e-mail.",
        ),
        "NAJA",
        "Endnu en gang, din kode er: {code}",
    ),
    voiced(
        l(
            "nl",
            "Dutch",
            "Je verificatiecode voor {name} is: {code}",
            "Je verificatiecode voor {name}",
            "Als je deze code niet hebt aangevraagd, kun je deze e-mail negeren.",
        ),
        "LOTTE",
        "Nogmaals, je code is: {code}",
    ),
    l(
        "et",
        "Estonian",
        "Sinu {name} kinnituskood on: {code}",
        "Sinu {name} kinnituskood",
        "Kui sa seda koodi ei taotlenud, võid selle e-kirja tähelepanuta jätta.",
    ),
    l(
        "fi",
        "Finnish",
        "{name}-vahvistuskoodisi on: {code}",
        "{name}-vahvistuskoodisi",
        "Jos et pyytänyt tätä koodia, voit jättää tämän sähköpostin huomiotta.",
    ),
    voiced(
        l(
            "fr",
            "French",
            "Votre code de vérification {name} est : {code}",
            "Votre code de vérification {name}",
            "Si vous n'avez pas demandé ce code, vous pouvez ignorer cet e-mail.",
        ),
        "LEA",
        "Je répète, votre code est : {code}",
    ),
    l(
        "ka",
        "Georgian",
        "თქვენი {name} დადასტურების კოდია: {code}",
        "თქვენი {name} დადასტურების კოდი",
        "თუ ეს კოდი არ მოგითხოვიათ, შეგიძლიათ ეს წერილი უგულებელყოთ.",
    ),
    voiced(
        l(
            "de",
            "German",
            "Ihr Bestätigungscode für {name} lautet: {code}",
            "Ihr Bestätigungscode für {name}",
            "Wenn Sie diesen Code nicht angefordert haben, können Sie diese E-Mail ignorieren.",
        ),
        "VICKI",
        "Noch einmal, Ihr Code lautet: {code}",
    ),
    l(
        "el",
        "Greek",
        "Ο κωδικός επαλήθευσης {name} είναι: {code}",
        "Κωδικός επαλήθευσης {name}",
        "Αν δεν ζητήσατε αυτόν τον κωδικό, μπορείτε να αγνοήσετε αυτό το email.",
    ),
    l("gu", "Gujarati", "તમારો {name} ચકાસણી કોડ છે: {code}", "તમારો {name} ચકાસણી કોડ", "જો તમે આ કોડની વિનંતી કરી ન હોય, તો આ ઇમેઇલને અવગણો."),
    l(
        "ha",
        "Hausa",
        "Lambar tabbatarwa ta {name} ita ce: {code}",
        "Lambar tabbatarwa ta {name}",
        "Idan ba ku nemi wannan lambar ba, kuna iya watsi da wannan imel.",
    ),
    rtl(l(
        "he",
        "Hebrew",
        "קוד האימות שלך ל-{name} הוא: {code}",
        "קוד האימות שלך ל-{name}",
        "אם לא ביקשת את הקוד הזה, אפשר להתעלם מהודעה זו.",
    )),
    l("hi", "Hindi", "आपका {name} सत्यापन कोड है: {code}", "आपका {name} सत्यापन कोड", "अगर आपने यह कोड नहीं मांगा था, तो इस ईमेल को अनदेखा करें।"),
    l(
        "hu",
        "Hungarian",
        "A(z) {name} ellenőrző kódod: {code}",
        "A(z) {name} ellenőrző kódod",
        "Ha nem te kérted ezt a kódot, nyugodtan hagyd figyelmen kívül ezt az e-mailt.",
    ),
    l(
        "id",
        "Indonesian",
        "Kode verifikasi {name} Anda adalah: {code}",
        "Kode verifikasi {name} Anda",
        "Jika Anda tidak meminta kode ini, abaikan saja email ini.",
    ),
    l(
        "ga",
        "Irish",
        "Do chód fíoraithe {name}: {code}",
        "Do chód fíoraithe {name}",
        "Murar iarr tú an cód seo, is féidir leat neamhaird a dhéanamh den ríomhphost seo.",
    ),
    voiced(
        l(
            "it",
            "Italian",
            "Il tuo codice di verifica {name} è: {code}",
            "Il tuo codice di verifica {name}",
            "Se non hai richiesto questo codice, puoi ignorare questa email.",
        ),
        "CARLA",
        "Ripeto, il tuo codice è: {code}",
    ),
    voiced(
        l(
            "ja",
            "Japanese",
            "{name}の認証コードは{code}です。",
            "{name}の認証コード",
            "このコードに心当たりがない場合は、このメールを無視してください。",
        ),
        "MIZUKI",
        "もう一度お伝えします。認証コードは{code}です。",
    ),
    l("kn", "Kannada", "ನಿಮ್ಮ {name} ಪರಿಶೀಲನಾ ಕೋಡ್: {code}", "ನಿಮ್ಮ {name} ಪರಿಶೀಲನಾ ಕೋಡ್", "ನೀವು ಈ ಕೋಡ್ ಅನ್ನು ವಿನಂತಿಸದಿದ್ದರೆ, ಈ ಇಮೇಲ್ ಅನ್ನು ನಿರ್ಲಕ್ಷಿಸಬಹುದು."),
    l(
        "kk",
        "Kazakh",
        "{name} растау кодыңыз: {code}",
        "{name} растау кодыңыз",
        "Егер бұл кодты сұрамаған болсаңыз, бұл хатты елемеуге болады.",
    ),
    l(
        "rw",
        "Kinyarwanda",
        "Kode yawe yo kwemeza {name} ni: {code}",
        "Kode yawe yo kwemeza {name}",
        "Niba utasabye iyi kode, ushobora kwirengagiza iyi imeyili.",
    ),
    voiced(
        l(
            "ko",
            "Korean",
            "{name} 인증번호는 {code}입니다.",
            "{name} 인증번호",
            "이 인증번호를 요청하지 않았다면 이 이메일을 무시하셔도 됩니다.",
        ),
        "SEOYEON",
        "다시 한 번 알려드립니다. 인증번호는 {code}입니다.",
    ),
    l(
        "ky",
        "Kyrgyz",
        "{name} ырастоо кодуңуз: {code}",
        "{name} ырастоо кодуңуз",
        "Эгер бул кодду сураган эмес болсоңуз, бул катты көңүлгө албасаңыз болот.",
    ),
    l("lo", "Lao", "ລະຫັດຢືນຢັນ {name} ຂອງທ່ານແມ່ນ: {code}", "ລະຫັດຢືນຢັນ {name} ຂອງທ່ານ", "ຖ້າທ່ານບໍ່ໄດ້ຮ້ອງຂໍລະຫັດນີ້, ທ່ານສາມາດລະເລີຍອີເມວນີ້ໄດ້."),
    l(
        "lv",
        "Latvian",
        "Jūsu {name} verifikācijas kods: {code}",
        "Jūsu {name} verifikācijas kods",
        "Ja jūs šo kodu nepieprasījāt, varat ignorēt šo e-pasta ziņojumu.",
    ),
    l(
        "lt",
        "Lithuanian",
        "Jūsų {name} patvirtinimo kodas: {code}",
        "Jūsų {name} patvirtinimo kodas",
        "Jei šio kodo neprašėte, galite nekreipti dėmesio į šį el. laišką.",
    ),
    l(
        "mk",
        "Macedonian",
        "Вашиот код за потврда за {name} е: {code}",
        "Код за потврда за {name}",
        "Ако не сте го побарале овој код, можете да ја занемарите оваа е-пошта.",
    ),
    l(
        "ms",
        "Malay",
        "Kod pengesahan {name} anda ialah: {code}",
        "Kod pengesahan {name} anda",
        "Jika anda tidak meminta kod ini, anda boleh abaikan e-mel ini.",
    ),
    l(
        "ml",
        "Malayalam",
        "നിങ്ങളുടെ {name} സ്ഥിരീകരണ കോഡ്: {code}",
        "നിങ്ങളുടെ {name} സ്ഥിരീകരണ കോഡ്",
        "നിങ്ങൾ ഈ കോഡ് അഭ്യർത്ഥിച്ചിട്ടില്ലെങ്കിൽ, ഈ ഇമെയിൽ അവഗണിക്കാം.",
    ),
    l("mr", "Marathi", "तुमचा {name} पडताळणी कोड आहे: {code}", "तुमचा {name} पडताळणी कोड", "तुम्ही हा कोड मागितला नसल्यास, या ईमेलकडे दुर्लक्ष करा."),
    voiced(
        l(
            "nb",
            "Norwegian (Bokmål)",
            "Din bekreftelseskode for {name} er: {code}",
            "Din bekreftelseskode for {name}",
            "Hvis du ikke ba om denne koden, kan du se bort fra denne e-posten.",
        ),
        "LIV",
        "Igjen, koden din er: {code}",
    ),
    rtl(l(
        "fa",
        "Persian",
        "کد تأیید {name} شما: {code}",
        "کد تأیید {name} شما",
        "اگر این کد را درخواست نکرده‌اید، می‌توانید این ایمیل را نادیده بگیرید.",
    )),
    voiced(
        l(
            "pl",
            "Polish",
            "Twój kod weryfikacyjny {name} to: {code}",
            "Twój kod weryfikacyjny {name}",
            "Jeśli nie oczekujesz tego kodu, zignoruj tę wiadomość.",
        ),
        "EWA",
        "Powtarzam, Twój kod to: {code}",
    ),
    voiced(
        l(
            "pt",
            "Portuguese (Portugal)",
            "O seu código de verificação {name} é: {code}",
            "O seu código de verificação {name}",
            "Se não pediu este código, pode ignorar este e-mail.",
        ),
        "INES",
        "Repito, o seu código é: {code}",
    ),
    voiced(
        l(
            "pt-BR",
            "Portuguese (Brazil)",
            "Seu código de verificação de {name} é: {code}",
            "Seu código de verificação de {name}",
            "Se você não solicitou este código, pode ignorar este e-mail.",
        ),
        "CAMILA",
        "Repetindo, seu código é: {code}",
    ),
    l(
        "pa",
        "Punjabi",
        "ਤੁਹਾਡਾ {name} ਪੁਸ਼ਟੀਕਰਨ ਕੋਡ ਹੈ: {code}",
        "ਤੁਹਾਡਾ {name} ਪੁਸ਼ਟੀਕਰਨ ਕੋਡ",
        "ਜੇ ਤੁਸੀਂ ਇਹ ਕੋਡ ਨਹੀਂ ਮੰਗਿਆ ਸੀ, ਤਾਂ ਇਸ ਈਮੇਲ ਨੂੰ ਅਣਡਿੱਠਾ ਕਰ ਸਕਦੇ ਹੋ।",
    ),
    voiced(
        l(
            "ro",
            "Romanian",
            "Codul tău de verificare {name} este: {code}",
            "Codul tău de verificare {name}",
            "Dacă nu ai solicitat acest cod, poți ignora acest e-mail.",
        ),
        "CARMEN",
        "Repet, codul tău este: {code}",
    ),
    voiced(
        l(
            "ru",
            "Russian",
            "Ваш код подтверждения {name}: {code}",
            "Код подтверждения {name}",
            "Если вы не запрашивали этот код, просто проигнорируйте это письмо.",
        ),
        "TATYANA",
        "Повторяю, ваш код: {code}",
    ),
    l(
        "sr",
        "Serbian",
        "Ваш код за потврду за {name} је: {code}",
        "Код за потврду за {name}",
        "Ако нисте тражили овај код, можете занемарити ову поруку.",
    ),
    l(
        "sk",
        "Slovak",
        "Váš overovací kód pre {name} je: {code}",
        "Overovací kód pre {name}",
        "Ak ste o tento kód nežiadali, môžete tento e-mail ignorovať.",
    ),
    l(
        "sl",
        "Slovenian",
        "Vaša koda za preverjanje {name}: {code}",
        "Koda za preverjanje {name}",
        "Če te kode niste zahtevali, lahko to e-poštno sporočilo prezrete.",
    ),
    voiced(
        l(
            "es",
            "Spanish",
            "Tu código de verificación de {name} es: {code}",
            "Tu código de verificación de {name}",
            "Si no has solicitado este código, puedes ignorar este correo.",
        ),
        "LUCIA",
        "Repito, tu código es: {code}",
    ),
    l(
        "sw",
        "Swahili",
        "Msimbo wa uthibitishaji wa {name}: {code}",
        "Msimbo wa uthibitishaji wa {name}",
        "Ikiwa hukuomba msimbo huu, unaweza kupuuza barua pepe hii.",
    ),
    voiced(
        l(
            "sv",
            "Swedish",
            "Din verifieringskod för {name} är: {code}",
            "Din verifieringskod för {name}",
            "Om du inte har begärt den här koden kan du ignorera det här e-postmeddelandet.",
        ),
        "ASTRID",
        "En gång till, din kod är: {code}",
    ),
    l(
        "tl",
        "Tagalog (Filipino)",
        "Ang iyong {name} verification code ay: {code}",
        "Ang iyong {name} verification code",
        "Kung hindi mo hiniling ang code na ito, maaari mong balewalain ang email na ito.",
    ),
    l(
        "ta",
        "Tamil",
        "உங்கள் {name} சரிபார்ப்புக் குறியீடு: {code}",
        "உங்கள் {name} சரிபார்ப்புக் குறியீடு",
        "இந்தக் குறியீட்டை நீங்கள் கோரவில்லை என்றால், இந்த மின்னஞ்சலைப் புறக்கணிக்கலாம்.",
    ),
    l("te", "Telugu", "మీ {name} ధృవీకరణ కోడ్: {code}", "మీ {name} ధృవీకరణ కోడ్", "మీరు ఈ కోడ్‌ను అభ్యర్థించకపోతే, ఈ ఇమెయిల్‌ను విస్మరించవచ్చు."),
    l("th", "Thai", "รหัสยืนยัน {name} ของคุณคือ {code}", "รหัสยืนยัน {name} ของคุณ", "หากคุณไม่ได้ขอรหัสนี้ คุณสามารถเพิกเฉยต่ออีเมลนี้ได้"),
    voiced(
        l(
            "tr",
            "Turkish",
            "{name} doğrulama kodunuz: {code}",
            "{name} doğrulama kodunuz",
            "Bu kodu siz istemediyseniz bu e-postayı dikkate almayabilirsiniz.",
        ),
        "FILIZ",
        "Tekrar ediyorum, kodunuz: {code}",
    ),
    l(
        "uk",
        "Ukrainian",
        "Ваш код підтвердження {name}: {code}",
        "Код підтвердження {name}",
        "Якщо ви не запитували цей код, просто проігноруйте цей лист.",
    ),
    rtl(l(
        "ur",
        "Urdu",
        "آپ کا {name} تصدیقی کوڈ ہے: {code}",
        "آپ کا {name} تصدیقی کوڈ",
        "اگر آپ نے یہ کوڈ طلب نہیں کیا تو اس ای میل کو نظر انداز کر دیں۔",
    )),
    l(
        "uz",
        "Uzbek",
        "{name} tasdiqlash kodingiz: {code}",
        "{name} tasdiqlash kodingiz",
        "Agar bu kodni siz so‘ramagan bo‘lsangiz, ushbu xatga e’tibor bermang.",
    ),
    l(
        "vi",
        "Vietnamese",
        "Mã xác minh {name} của bạn là: {code}",
        "Mã xác minh {name} của bạn",
        "Nếu bạn không yêu cầu mã này, bạn có thể bỏ qua email này.",
    ),
    l(
        "zu",
        "Zulu",
        "Ikhodi yokuqinisekisa ye-{name}: {code}",
        "Ikhodi yokuqinisekisa ye-{name}",
        "Uma ungazange uyicele le khodi, ungayinaki le imeyili.",
    ),
];
