//! Français. `**…**` marque le nom d’un bouton ou d’un menu tel que
//! l’application l’affiche ; la page le montre comme libellé.

use super::{AddressErrors, AppText, Apps, Shown, Strings, Trouble};

const OUTLOOK_MOBILE_PERSONAL: &[&str] = &[
    "Installez **Microsoft Outlook** depuis l’App Store ou Google Play.",
    "Ouvrez-le et touchez **Ajouter un compte**.",
    "Saisissez votre adresse e-mail et touchez **Continuer**.",
    "Connectez-vous sur la page Microsoft qui s’ouvre. C’est tout : Outlook ne demande aucun autre mot de passe.",
];

const OUTLOOK_MOBILE_WORK: &[&str] = &[
    "Installez **Microsoft Outlook** depuis l’App Store ou Google Play.",
    "Ouvrez-le et touchez **Ajouter un compte**.",
    "Saisissez votre adresse e-mail et touchez **Continuer**.",
    "Connectez-vous sur la page Microsoft de votre organisation. Si elle vous demande d’installer **Microsoft Authenticator** ou **Portail d’entreprise**, suivez ses indications.",
];

const IOS_PERSONAL: &[&str] = &[
    "Ouvrez cette page dans Safari sur l’iPhone ou l’iPad, touchez **Télécharger le profil pour iPhone et iPad**, puis **Autoriser**.",
    "Ouvrez **Réglages** : touchez **Profil téléchargé** en haut (ou **Général › VPN et gestion de l’appareil**), puis **Installer**.",
    "Connectez-vous sur la page Microsoft quand Mail le demande. C’est tout : le profil ne contient aucun mot de passe.",
    "Sans le profil : **Réglages › Apps › Mail › Comptes de messagerie › Ajouter un compte** (**Réglages › Mail › Comptes** avant iOS 18), choisissez **Outlook.com**, saisissez votre adresse et connectez-vous sur la page Microsoft.",
];

const IOS_WORK: &[&str] = &[
    "Ouvrez cette page dans Safari sur l’iPhone ou l’iPad, touchez **Télécharger le profil pour iPhone et iPad**, puis **Autoriser**.",
    "Ouvrez **Réglages** : touchez **Profil téléchargé** en haut (ou **Général › VPN et gestion de l’appareil**), puis **Installer**.",
    "Connectez-vous sur la page Microsoft de votre organisation quand Mail le demande. Le profil ne contient aucun mot de passe.",
    "Sans le profil : **Réglages › Apps › Mail › Comptes de messagerie › Ajouter un compte** (**Réglages › Mail › Comptes** avant iOS 18), choisissez **Microsoft Exchange**, saisissez votre adresse, touchez **Suivant** puis **Se connecter** (et non **Configurer manuellement**).",
];

const MACOS_ALL: &[&str] = &[
    "Sur le Mac, cliquez sur **Télécharger le profil pour Mac** et ouvrez le fichier téléchargé.",
    "Dans **Réglages Système › Général › Gestion des appareils** (**Confidentialité et sécurité › Profils** sur les macOS plus anciens), double-cliquez sur le profil puis cliquez sur **Installer**.",
    "Connectez-vous sur la page Microsoft quand Mail le demande. Le profil ne contient aucun mot de passe.",
    "Sans le profil : dans Mail, choisissez **Mail › Ajouter un compte › Microsoft Exchange**, saisissez votre nom et votre adresse, cliquez sur **Se connecter** (et non **Configurer manuellement**) et connectez-vous sur la page Microsoft.",
];

const THUNDERBIRD_ALL: &[&str] = &[
    "Ouvrez le menu **≡** › **Paramètres des comptes › Gestion des comptes › Ajouter un compte de messagerie** (ou **Fichier › Nouveau › Compte courrier existant**).",
    "Saisissez votre nom et votre adresse e-mail. Laissez le mot de passe vide et cliquez sur **Continuer**.",
    "Thunderbird trouve les paramètres tout seul : IMAP avec OAuth2 est choisi automatiquement. Cliquez sur **Terminé**.",
    "Connectez-vous dans la fenêtre Microsoft qui s’ouvre.",
];

const OUTLOOK_NEW_ALL: &[&str] = &[
    "Ouvrez Outlook et allez dans **Paramètres › Comptes › Comptes de messagerie › Ajouter un compte**.",
    "Saisissez votre adresse e-mail et cliquez sur **Continuer**.",
    "Connectez-vous sur la page Microsoft. Outlook ajoute la boîte mail comme compte Outlook.com ou Microsoft 365, pas en IMAP.",
];

const OUTLOOK_CLASSIC_ALL: &[&str] = &[
    "Cliquez sur **Fichier › Ajouter un compte**.",
    "Saisissez votre adresse e-mail et cliquez sur **Connexion**. Ne touchez pas aux **Options avancées** : ne choisissez ni IMAP ni POP.",
    "Connectez-vous dans la fenêtre Microsoft. Outlook ajoute la boîte mail comme compte Exchange, avec ses dossiers, son calendrier et ses contacts.",
    "Si une petite fenêtre grise de Windows redemande sans cesse un mot de passe, cet Outlook n’est pas à jour : installez ses mises à jour (**Fichier › Compte Office › Options de mise à jour › Mettre à jour**).",
];

const LEGACY_PERSONAL: &[&str] = &[
    "Ils ne savent pas afficher la fenêtre de connexion Microsoft, et Outlook.com ne les laisse plus entrer avec aucun mot de passe.",
    "Mettez l’application à jour : les versions actuelles de la plupart des logiciels de messagerie se connectent avec Microsoft (Thunderbird, Outlook mobile et Gmail sont gratuits).",
    "Ou utilisez l’application d’Outlook (Outlook mobile, le nouvel Outlook pour Windows, Outlook pour Mac) ou le Web : outlook.com dans n’importe quel navigateur.",
    "Rien d’autre ne marche : aucun réglage ni mot de passe ne fait revenir un ancien logiciel, et une imprimante ou un scanner qui ne sait envoyer qu’avec un mot de passe ne peut plus envoyer depuis une adresse Outlook.com.",
];

const LEGACY_WORK: &[&str] = &[
    "Ils ne savent pas afficher la fenêtre de connexion Microsoft, et Microsoft 365 n’y accepte pas de mot de passe pour lire le courrier.",
    "La vraie solution : mettez le logiciel à jour, ou remplacez-le par Outlook, Thunderbird ou l’application Mail de votre appareil.",
    "Les mots de passe d’application n’existent pas pour les comptes professionnels ou scolaires.",
];

const MAC_AFTER_EWS: &[&str] = &[
    "Outlook pour Mac : installez **Microsoft Outlook** depuis le Mac App Store (gratuit), ouvrez-le, saisissez votre adresse e-mail et connectez-vous sur la page Microsoft.",
    "Ou Thunderbird : installez-le depuis thunderbird.net, saisissez votre nom et votre adresse e-mail, laissez le mot de passe vide et cliquez sur **Continuer**. Il trouve les paramètres sur ce serveur (IMAP avec OAuth2) ; connectez-vous dans la fenêtre Microsoft.",
    "Apple n’a rien annoncé d’autre pour Mail sur Mac (non vérifié).",
];

const NO_SUCH_ACCOUNT: Trouble = Trouble {
    seen: "« Ce compte Microsoft n’existe pas. Entrez un autre compte ou obtenez-en un nouveau. » (en anglais : « That Microsoft account doesn’t exist »)",
    fix: "L’adresse contient une faute de frappe, ou le compte a été fermé. Vérifiez-la en vous connectant à outlook.com dans un navigateur.",
    shown: Shown::Always,
};

const CONDITIONAL_ACCESS: Trouble = Trouble {
    seen: "« Vous ne pouvez pas accéder à cette ressource pour l’instant » (en anglais : « You cannot access this right now ») après vous être connecté.",
    fix: "Une règle d’accès conditionnel de votre organisation bloque cette application ou cet appareil ; rien sur l’appareil n’y change quoi que ce soit. Envoyez une capture du message, avec son **ID de demande** et l’heure, à votre service informatique, ou utilisez l’application qu’il autorise (souvent Outlook mobile).",
    shown: Shown::Always,
};

const NEED_ADMIN_THUNDERBIRD: Trouble = Trouble {
    seen: "« Approbation administrateur requise » (en anglais : « Need admin approval ») sur la page Microsoft.",
    fix: "Votre organisation ne laisse lire le courrier qu’aux applications approuvées. Transmettez ceci à votre service informatique : « Merci d’accorder le consentement administrateur dans Microsoft Entra à Mozilla Thunderbird (ID d’application 9e5f94bc-e8a4-4e73-b8be-63364c29d753). »",
    shown: Shown::Always,
};

const NEED_ADMIN_GMAIL: Trouble = Trouble {
    seen: "« Approbation administrateur requise » (en anglais : « Need admin approval ») sur la page Microsoft.",
    fix: "Votre organisation ne laisse lire le courrier qu’aux applications approuvées. Transmettez ceci à votre service informatique : « Merci d’accorder le consentement administrateur dans Microsoft Entra à l’application Gmail (Google) pour que j’y ajoute ma boîte mail. » Ou utilisez Outlook mobile.",
    shown: Shown::Always,
};

const PROTOCOL_OFF: Trouble = Trouble {
    seen: "« AUTHENTICATE failed » (Thunderbird : « La connexion au serveur outlook.office365.com avec le nom d’utilisateur … a échoué ») juste après une connexion réussie.",
    fix: "IMAP ou POP est désactivé pour votre boîte mail. Transmettez ceci à votre service informatique : « Merci d’activer IMAP pour ma boîte mail (Centre d’administration Exchange › Boîtes aux lettres › ma boîte › Applications de messagerie). »",
    shown: Shown::Always,
};

const SMTP_AUTH_OFF: Trouble = Trouble {
    seen: "« 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant » (ou « … for the Mailbox ») à l’envoi.",
    fix: "L’envoi avec SMTP AUTH est désactivé. Transmettez le message à votre service informatique : il peut activer **SMTP authentifié** pour cette seule boîte mail, ou installer un relais SMTP (connecteur) pour l’appareil.",
    shown: Shown::Always,
};

const OLD_THUNDERBIRD: Trouble = Trouble {
    seen: "Thunderbird demande un mot de passe et **OAuth2** n’est pas dans sa liste **Méthode d’authentification**.",
    fix: "Ce Thunderbird est antérieur à la version 78 et ne sait pas se connecter avec Microsoft. **Aide › À propos de Thunderbird** montre la version ; installez la version actuelle depuis thunderbird.net.",
    shown: Shown::Always,
};

const NOT_VERIFIED: Trouble = Trouble {
    seen: "Le profil est affiché « Non vérifié » (en rouge) avant l’installation.",
    fix: "Le profil n’est pas signé par qui gère cette page. Vous pouvez l’installer si vous l’avez téléchargé depuis cette page : il ne contient aucun mot de passe, et vous vous connectez sur la page de Microsoft. Demandez-lui de signer les profils pour qu’ils s’affichent « Vérifié ».",
    shown: Shown::WithUnsignedProfile,
};

const MAC_EWS_BLOCKED: Trouble = Trouble {
    seen: "Mail indique « Impossible de vérifier le nom du compte ou le mot de passe » ou laisse le compte hors ligne, alors que la connexion Microsoft a réussi.",
    fix: "Votre organisation bloque les services web Exchange (EWS) pour l’application d’Apple. Transmettez ceci à votre service informatique : « Merci d’autoriser Apple Internet Accounts (ID d’application f8d98a96-0999-43f5-8af3-69971c7bb423) à utiliser EWS. » Ou utilisez Outlook pour Mac.",
    shown: Shown::WithProfile,
};

const POP_OFF_OUTLOOK_COM: Trouble = Trouble {
    seen: "L’application n’arrive pas à se connecter en POP (outlook.office365.com, port 995), alors qu’IMAP marche.",
    fix: "Outlook.com laisse POP désactivé tant que vous ne l’activez pas : sur outlook.com, ouvrez **Paramètres › Courrier › Transfert et IMAP** et réglez **Autoriser les appareils et les applications à utiliser POP** sur **Oui**. IMAP est préférable : il garde vos dossiers à jour.",
    shown: Shown::Always,
};

const PASSWORD_REFUSED: Trouble = Trouble {
    seen: "« Échec de l’authentification », ou le mot de passe est redemandé sans cesse.",
    fix: "C’est normal : Outlook.com refuse tout mot de passe saisi dans une application. Mettez l’application à jour ou utilisez celle d’Outlook.",
    shown: Shown::Always,
};

const CLASSIC_PASSWORD_BOX: Trouble = Trouble {
    seen: "Une petite fenêtre grise de Windows redemande sans cesse votre mot de passe.",
    fix: "Cet Outlook n’est pas à jour ou a été configuré en IMAP/POP. Installez ses mises à jour (**Fichier › Compte Office › Options de mise à jour › Mettre à jour**) et ajoutez de nouveau le compte sans **Options avancées**.",
    shown: Shown::Always,
};

pub(super) const STRINGS: Strings = Strings {
    code: "fr",
    name: "Français",
    page_title: "Configurer votre boîte mail Outlook.com ou Microsoft 365",
    intro: "Saisissez votre adresse e-mail. Cette page vous dit de quel type de compte il s’agit et comment l’ajouter à votre application en vous connectant avec Microsoft.",
    language_switch: "Langue",
    email_label: "Votre adresse e-mail",
    email_placeholder: "vous@exemple.fr",
    submit: "Voir les étapes",
    invalid_address: "Cette adresse e-mail n’est pas valide : {reason}.",
    repeated_parameter: "Le lien donne l’adresse plusieurs fois ; saisissez-la de nouveau.",
    bad_encoding: "Le lien est abîmé (ce n’est pas de l’UTF-8 valide) ; saisissez l’adresse de nouveau.",
    unknown_domain: "Ce serveur n’a pas de paramètres pour {domain}. Vérifiez l’adresse ; si elle est juste, demandez à qui gère votre messagerie quels paramètres utiliser.",
    account_heading: "Votre compte",
    kind_personal: "Compte personnel Outlook.com (compte Microsoft : Outlook.com, Hotmail, Live, MSN)",
    kind_work: "Compte professionnel ou scolaire Microsoft 365",
    answer_heading: "Comment votre application se connecte",
    answer_modern: "Avec Microsoft : votre application ouvre une fenêtre de connexion Microsoft, vous vous y connectez, et c’est tout.",
    answer_legacy_personal: "Elle ne le peut pas : depuis le {date}, Outlook.com ne laisse entrer les autres applications que par la fenêtre de connexion Microsoft et refuse tout mot de passe qu’on y saisit.",
    answer_legacy_work: "Elle ne peut pas lire votre courrier : Microsoft 365 n’accepte pour cela que la fenêtre de connexion Microsoft, et les comptes professionnels et scolaires ne peuvent pas utiliser de mot de passe d’application. Pour un appareil qui ne fait qu’envoyer, voyez les étapes.",
    answer_mac_ended: "Plus maintenant : Mail sur Mac ajoutait cette boîte mail comme compte Exchange, par les services web Exchange (EWS), que Microsoft a coupés le {date}.",
    recommended: "À faire :",
    recommended_modern: "Ajoutez le compte dans {app} et connectez-vous avec Microsoft.",
    recommended_legacy_personal: "Mettez l’application à jour, ou utilisez l’application d’Outlook ou outlook.com.",
    recommended_legacy_work: "Mettez le logiciel à jour ou remplacez-le.",
    recommended_mac_ended: "Utilisez Outlook pour Mac, ou Thunderbird.",
    app_switch_heading: "Pas la bonne application ? Choisissez la vôtre",
    steps_heading: "Étapes pour {app}",
    profile_ios: "Télécharger le profil pour iPhone et iPad",
    profile_macos: "Télécharger le profil pour Mac",
    mac_ews_admin_from: "À partir du {date}, Mail ne fonctionne que si votre service informatique autorise l’application d’Apple (Apple Internet Accounts, ID d’application {app_id}) à utiliser les services web Exchange (EWS).",
    mac_ews_admin_since: "Depuis le {date}, Mail ne fonctionne que si votre service informatique autorise l’application d’Apple (Apple Internet Accounts, ID d’application {app_id}) à utiliser les services web Exchange (EWS). Si Mail n’arrive pas à se connecter, demandez-le-lui.",
    mac_ews_end: "Le compte Exchange de Mail sur Mac cesse de fonctionner le {date}, quand Microsoft coupe définitivement EWS. Utilisez alors Outlook pour Mac, ou Thunderbird.",
    mac_after_ews_note: "Depuis le {date}, Mail sur Mac ne peut pas ajouter cette boîte mail : son compte Exchange passait par les services web Exchange (EWS), que Microsoft a coupés. Ce qui marche sur un Mac :",
    mac_after_ews_steps: MAC_AFTER_EWS,
    thunderbird_graph_note: "Thunderbird {version} et les versions suivantes peuvent aussi proposer Exchange (Microsoft Graph) en plus d’IMAP. IMAP, le premier choix et celui qui est recommandé, fonctionne : gardez-le.",
    legacy_work_connector: "Un appareil qui ne fait qu’envoyer (imprimante, scanner) : demandez à votre service informatique un relais SMTP, un connecteur Microsoft 365 qui accepte l’appareil par son adresse IP ou son certificat, sans mot de passe. C’est la solution qui dure.",
    legacy_work_smtp_until: "L’envoi avec un mot de passe (SMTP AUTH) reste possible là où votre administrateur l’autorise, {until}. Ensuite Microsoft le désactive par défaut, et il ne marche plus que là où votre organisation garde une exception.",
    legacy_work_smtp_exception: "L’envoi avec un mot de passe (SMTP AUTH) ne marche que là où votre organisation garde une exception : Microsoft l’a désactivé par défaut.",
    decision_heading: "Décider en trois questions",
    go_to_question_2: "Passez à la question 2.",
    go_to_older_apps: "C’est un des anciens logiciels : ouvrez « Anciens logiciels qu’on ne peut pas mettre à jour ».",
    older_apps_summary: "Anciens logiciels qu’on ne peut pas mettre à jour (question 3)",
    for_address: "Pour {address} :",
    did_you_mean_end: " ?",
    mac_only: "Ces étapes sont pour un Mac.",
    on_ipad: "Sur un iPad ou un iPhone ? Voir ses étapes",
    on_mac: "Sur un Mac ? Voir les étapes pour Mac",
    device_choice_kept: "Ce choix est gardé dans le lien de cette page, uniquement pour cet appareil.",
    trouble_heading: "Ça n’a pas marché ?",
    trouble_seen: "Vous voyez",
    trouble_fix: "Que faire",
    run_by: "Cette page est gérée par {name}.",
    run_by_host: "Cette page est gérée par qui gère {host}.",
    run_by_unknown: "Cette page est gérée par le support de votre messagerie, pas par Microsoft.",
    help_mail: "Aide : écrivez à {contact}",
    help_url: "Aide : {contact}",
    unsigned_profile: "Ce profil n’est pas signé : votre iPhone, iPad ou Mac l’affichera « Non vérifié ». C’est attendu ; installez-le seulement si vous l’avez téléchargé depuis cette page.",
    did_you_mean: "Vouliez-vous dire",
    not_microsoft: "{domain} n’est pas une boîte mail Microsoft. Cette page sert uniquement aux boîtes Outlook.com (Hotmail, Live, MSN) et Microsoft 365 ; l’aide de {domain} explique comment l’ajouter à votre application.",
    type_your_address: "Saisissez votre adresse e-mail.",
    meta_description: "Ajoutez votre boîte mail Outlook.com ou Microsoft 365 à votre application : le type de compte, les étapes pour votre application, et que faire en cas d’échec.",
    choose_app: "Choisir cette application",
    copy: "Copier",
    copied: "Copié",
    copy_label: "Copier {host}",
    copied_host: "{host} copié dans le presse-papiers.",
    copy_failed: "Impossible de copier : sélectionnez le nom et copiez-le vous-même.",
    question_sign_in: "L’application affiche-t-elle une fenêtre de connexion Microsoft (une page Microsoft qui demande votre mot de passe et, si vous l’utilisez, la validation en deux étapes) ?",
    answer_sign_in: "Connectez-vous dans cette fenêtre. C’est tout.",
    question_update: "Peut-on mettre à jour l’application ou l’appareil, ou le remplacer par une des applications de cette page ?",
    answer_update: "Mettez-le à jour ou remplacez-le, puis connectez-vous avec Microsoft.",
    question_personal: "Est-ce un compte personnel (Outlook.com, Hotmail, Live, MSN) ?",
    answer_personal_yes: "Alors rien d’autre ne marche : depuis le {date}, Outlook.com refuse tout mot de passe saisi dans une application. Utilisez l’application d’Outlook ou outlook.com sur le Web.",
    answer_personal_no_until: "Demandez un relais SMTP (connecteur Microsoft 365) à votre service informatique pour un appareil qui ne fait qu’envoyer. L’envoi avec un mot de passe reste possible là où votre administrateur l’autorise, {until}.",
    answer_personal_no_exception: "Demandez un relais SMTP (connecteur Microsoft 365) à votre service informatique pour un appareil qui ne fait qu’envoyer. L’envoi avec un mot de passe ne marche que là où votre organisation garde une exception.",
    yes: "Oui",
    no: "Non",
    settings_heading: "Paramètres manuels",
    settings_username: "Nom d’utilisateur : votre adresse e-mail complète",
    settings_caption: "Serveurs pour {name}",
    column_protocol: "Protocole",
    column_server: "Serveur",
    column_port: "Port",
    column_encryption: "Chiffrement",
    column_authentication: "Authentification",
    auth_oauth2: "OAuth2 (connexion Microsoft)",
    auth_password: "Mot de passe",
    settings_documentation: "La page de Microsoft sur ces paramètres",
    phone_heading: "Ouvrir cette page sur votre téléphone",
    qr_alt: "QR code qui ouvre cette page",
    qr_text: "Scannez ce code avec l’appareil photo du téléphone pour y ouvrir ces étapes.",
    footer: "Cette page ne demande jamais votre mot de passe. C’est la page de connexion de Microsoft qui le fait.",
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    first_of_month: "1er",
    date_format: "{day} {month} {year}",
    until_end_of_year: "jusqu’à fin {year}",
    until_day: "jusqu’au {date}",
    until_unknown: "pour l’instant",
    apps: Apps {
        outlook_mobile: AppText {
            name: "Outlook mobile",
            summary: "Microsoft Outlook pour iPhone, iPad et Android",
            steps_personal: OUTLOOK_MOBILE_PERSONAL,
            steps_work: OUTLOOK_MOBILE_WORK,
            trouble_personal: &[NO_SUCH_ACCOUNT],
            trouble_work: &[CONDITIONAL_ACCESS],
        },
        gmail_android: AppText {
            name: "Gmail pour Android",
            summary: "L’application Gmail d’un téléphone ou d’une tablette Android",
            steps_personal: &[
                "Dans Gmail, touchez votre photo de profil › **Ajouter un autre compte**.",
                "Choisissez **Outlook, Hotmail et Live**.",
                "Saisissez votre adresse e-mail et touchez **Suivant**.",
                "Connectez-vous sur la page Microsoft et acceptez les autorisations.",
            ],
            steps_work: &[
                "Dans Gmail, touchez votre photo de profil › **Ajouter un autre compte**.",
                "Choisissez **Exchange et Microsoft 365**.",
                "Saisissez votre adresse e-mail et touchez **Suivant**.",
                "Connectez-vous sur la page Microsoft de votre organisation et acceptez les autorisations. Si votre organisation le demande, laissez Gmail appliquer ses règles de sécurité.",
            ],
            trouble_personal: &[NO_SUCH_ACCOUNT],
            trouble_work: &[NEED_ADMIN_GMAIL, CONDITIONAL_ACCESS, PROTOCOL_OFF],
        },
        ios_mail: AppText {
            name: "Mail sur iPhone et iPad",
            summary: "L’application Mail d’iOS et d’iPadOS",
            steps_personal: IOS_PERSONAL,
            steps_work: IOS_WORK,
            trouble_personal: &[NOT_VERIFIED, NO_SUCH_ACCOUNT],
            trouble_work: &[NOT_VERIFIED, CONDITIONAL_ACCESS],
        },
        macos_mail: AppText {
            name: "Mail sur Mac",
            summary: "L’application Mail de macOS",
            steps_personal: MACOS_ALL,
            steps_work: MACOS_ALL,
            trouble_personal: &[NOT_VERIFIED],
            trouble_work: &[NOT_VERIFIED, MAC_EWS_BLOCKED, CONDITIONAL_ACCESS],
        },
        thunderbird: AppText {
            name: "Thunderbird",
            summary: "Thunderbird sur Windows, Mac et Linux",
            steps_personal: THUNDERBIRD_ALL,
            steps_work: THUNDERBIRD_ALL,
            trouble_personal: &[OLD_THUNDERBIRD, POP_OFF_OUTLOOK_COM],
            trouble_work: &[
                NEED_ADMIN_THUNDERBIRD,
                PROTOCOL_OFF,
                CONDITIONAL_ACCESS,
                OLD_THUNDERBIRD,
            ],
        },
        outlook_new: AppText {
            name: "Nouvel Outlook pour Windows",
            summary: "L’Outlook qui remplace Courrier sur Windows 10 et 11",
            steps_personal: OUTLOOK_NEW_ALL,
            steps_work: OUTLOOK_NEW_ALL,
            trouble_personal: &[NO_SUCH_ACCOUNT],
            trouble_work: &[CONDITIONAL_ACCESS],
        },
        outlook_classic: AppText {
            name: "Outlook classique pour Windows",
            summary: "Outlook de Microsoft 365, 2016, 2019, 2021 ou 2024",
            steps_personal: OUTLOOK_CLASSIC_ALL,
            steps_work: OUTLOOK_CLASSIC_ALL,
            trouble_personal: &[CLASSIC_PASSWORD_BOX],
            trouble_work: &[CLASSIC_PASSWORD_BOX, CONDITIONAL_ACCESS],
        },
        legacy: AppText {
            name: "Anciens logiciels et appareils",
            summary: "Outlook 2010 et 2013, Windows Live Mail, imprimantes et scanners qui ne font que du SMTP",
            steps_personal: LEGACY_PERSONAL,
            steps_work: LEGACY_WORK,
            trouble_personal: &[PASSWORD_REFUSED, POP_OFF_OUTLOOK_COM],
            trouble_work: &[SMTP_AUTH_OFF, PROTOCOL_OFF],
        },
    },
    errors: AddressErrors {
        empty: "elle est vide",
        too_long: "elle dépasse {max} caractères",
        missing_at: "il manque le @",
        multiple_at: "elle contient plusieurs @",
        empty_local_part: "rien ne précède le @",
        local_part_too_long: "la partie avant le @ dépasse {max} caractères",
        local_part_dots: "la partie avant le @ commence ou finit par un point, ou contient deux points de suite",
        control_character: "elle contient un caractère de contrôle invisible",
        space: "elle contient un espace",
        forbidden_character: "elle contient {char}, qu’une adresse ne peut pas contenir",
        empty_domain: "rien ne suit le @",
        domain_too_long: "la partie après le @ dépasse {max} caractères",
        single_label: "la partie après le @ doit contenir un point, comme exemple.fr",
        empty_label: "la partie après le @ contient deux points de suite, ou commence par un point",
        label_too_long: "une partie du domaine entre deux points dépasse {max} caractères",
        label_hyphen: "une partie du domaine commence ou finit par un tiret",
        domain_character: "la partie après le @ contient {char} ; seuls les lettres, chiffres, tirets et points y sont permis",
        ip_literal: "la partie après le @ est une adresse IP, pas un nom de domaine",
        invalid_idn: "la partie après le @ n’est pas un nom de domaine international valide",
    },
};
