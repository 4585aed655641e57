//! Français.

use super::{AddressErrors, AppText, Apps, Strings};

const OUTLOOK_MOBILE_PERSONAL: &[&str] = &[
    "Installez Microsoft Outlook depuis l’App Store ou Google Play.",
    "Ouvrez-le et touchez Ajouter un compte.",
    "Saisissez votre adresse e-mail et touchez Continuer.",
    "Connectez-vous sur la page Microsoft qui s’ouvre. Outlook ne demande jamais de mot de passe d’application.",
];

const OUTLOOK_MOBILE_WORK: &[&str] = &[
    "Installez Microsoft Outlook depuis l’App Store ou Google Play.",
    "Ouvrez-le et touchez Ajouter un compte.",
    "Saisissez votre adresse e-mail et touchez Continuer.",
    "Connectez-vous sur la page Microsoft de votre organisation. Si elle vous demande d’installer Microsoft Authenticator ou Portail d’entreprise, suivez ses indications.",
];

const IOS_PERSONAL: &[&str] = &[
    "Ouvrez cette page dans Safari, touchez Télécharger le profil pour iPhone et iPad, puis Autoriser.",
    "Ouvrez Réglages : touchez Profil téléchargé en haut (ou Général › VPN et gestion de l’appareil), puis Installer.",
    "Connectez-vous sur la page Microsoft quand Mail le demande. C’est tout : le profil ne contient aucun mot de passe.",
    "Sans le profil : Réglages › Apps › Mail › Comptes de messagerie › Ajouter un compte (Réglages › Mail › Comptes avant iOS 18), choisissez Outlook.com, saisissez votre adresse et connectez-vous sur la page Microsoft.",
];

const IOS_WORK: &[&str] = &[
    "Ouvrez cette page dans Safari, touchez Télécharger le profil pour iPhone et iPad, puis Autoriser.",
    "Ouvrez Réglages : touchez Profil téléchargé en haut (ou Général › VPN et gestion de l’appareil), puis Installer.",
    "Connectez-vous sur la page Microsoft de votre organisation quand Mail le demande. Le profil ne contient aucun mot de passe.",
    "Sans le profil : Réglages › Apps › Mail › Comptes de messagerie › Ajouter un compte (Réglages › Mail › Comptes avant iOS 18), choisissez Microsoft Exchange, saisissez votre adresse, touchez Suivant puis Se connecter (et non Configurer manuellement).",
];

const MACOS_ALL: &[&str] = &[
    "Cliquez sur Télécharger le profil pour Mac et ouvrez le fichier téléchargé.",
    "Dans Réglages Système › Général › Gestion des appareils (Confidentialité et sécurité › Profils sur les macOS plus anciens), double-cliquez sur le profil puis cliquez sur Installer.",
    "Connectez-vous sur la page Microsoft quand Mail le demande. Le profil ne contient aucun mot de passe.",
    "Sans le profil : dans Mail, choisissez Mail › Ajouter un compte › Microsoft Exchange, saisissez votre nom et votre adresse, cliquez sur Se connecter (et non Configurer manuellement) et connectez-vous sur la page Microsoft.",
];

const THUNDERBIRD_ALL: &[&str] = &[
    "Ouvrez le menu ≡ › Paramètres des comptes › Gestion des comptes › Ajouter un compte de messagerie (ou Fichier › Nouveau › Compte courrier existant).",
    "Saisissez votre nom et votre adresse e-mail. Laissez le mot de passe vide et cliquez sur Continuer.",
    "Thunderbird trouve les paramètres tout seul : IMAP avec OAuth2 est choisi automatiquement. Cliquez sur Terminé.",
    "Connectez-vous dans la fenêtre Microsoft qui s’ouvre.",
];

const OUTLOOK_NEW_ALL: &[&str] = &[
    "Ouvrez Outlook et allez dans Paramètres › Comptes › Comptes de messagerie › Ajouter un compte.",
    "Saisissez votre adresse e-mail et cliquez sur Continuer.",
    "Connectez-vous sur la page Microsoft. Outlook ajoute la boîte comme compte Outlook.com ou Microsoft 365, pas en IMAP.",
];

const OUTLOOK_CLASSIC_ALL: &[&str] = &[
    "Cliquez sur Fichier › Ajouter un compte.",
    "Saisissez votre adresse e-mail et cliquez sur Connexion. Ne touchez pas aux Options avancées : ne choisissez ni IMAP ni POP.",
    "Connectez-vous dans la fenêtre Microsoft. Outlook ajoute la boîte comme compte Exchange, avec ses dossiers, son calendrier et ses contacts.",
    "Si une petite fenêtre grise de Windows redemande sans cesse un mot de passe, cet Outlook n’est pas à jour : installez ses mises à jour (Fichier › Compte Office › Options de mise à jour › Mettre à jour).",
];

const LEGACY_PERSONAL: &[&str] = &[
    "Ils ne savent pas afficher la fenêtre de connexion Microsoft, et Microsoft n’y accepte plus votre mot de passe habituel.",
    "La vraie solution : mettez le logiciel à jour, ou remplacez-le par une des applications ci-dessus (Outlook, Thunderbird et les applications mobiles sont gratuits).",
    "Seulement pour un appareil qu’on ne peut ni mettre à jour ni remplacer (imprimante, scanner, vieux téléphone) : activez la vérification en deux étapes, puis sur account.microsoft.com allez dans Sécurité › Options de sécurité avancées › Mots de passe d’application › Créer un mot de passe d’application.",
    "Saisissez ce mot de passe d’application sur cet appareil seulement, avec les paramètres manuels ci-dessous. Un par appareil ; supprimez-le quand l’appareil n’est plus utilisé.",
    "Une imprimante ou un scanner qui ne fait qu’envoyer peut aussi passer par un relais SMTP (de votre fournisseur d’accès ou d’un service de messagerie).",
];

const LEGACY_WORK: &[&str] = &[
    "Ils ne savent pas afficher la fenêtre de connexion Microsoft, et Microsoft 365 n’y accepte pas de mot de passe.",
    "La vraie solution : mettez le logiciel à jour, ou remplacez-le par une des applications ci-dessus.",
    "Les mots de passe d’application n’existent pas pour les comptes professionnels ou scolaires.",
    "Une imprimante ou un scanner qui ne fait qu’envoyer : demandez un relais SMTP à votre service informatique (connecteur Microsoft 365 ou service de relais).",
];

pub(super) const STRINGS: Strings = Strings {
    code: "fr",
    name: "Français",
    page_title: "Configurer votre boîte Outlook.com ou Microsoft 365",
    intro: "Saisissez votre adresse e-mail. Cette page vous dit de quel type de compte il s’agit, quoi faire dans votre application, et si vous avez besoin d’un mot de passe d’application (presque jamais).",
    language_switch: "Langue",
    email_label: "Votre adresse e-mail",
    email_placeholder: "vous@exemple.fr",
    submit: "Voir les étapes",
    invalid_address: "Cette adresse e-mail n’est pas valide : {reason}.",
    repeated_parameter: "Le lien donne l’adresse plusieurs fois ; saisissez-la de nouveau.",
    bad_encoding: "Le lien est abîmé (ce n’est pas de l’UTF-8 valide) ; saisissez l’adresse de nouveau.",
    unknown_domain: "Ce serveur n’a pas de paramètres pour {domain}. Vérifiez l’adresse ; si elle est juste, demandez à qui gère votre messagerie quels paramètres utiliser.",
    account_heading: "Votre compte",
    kind_personal: "Compte personnel Outlook.com (compte Microsoft : Outlook.com, Hotmail, Live, MSN)",
    kind_work: "Compte professionnel ou scolaire Microsoft 365",
    answer_heading: "Avez-vous besoin d’un mot de passe d’application ?",
    answer_modern: "Non. Votre application se connecte avec Microsoft : elle ouvre une fenêtre de connexion Microsoft, et c’est tout.",
    answer_legacy_personal: "Seulement pour un appareil qu’on ne peut ni mettre à jour ni remplacer, et alors un mot de passe d’application pour cet appareil seul.",
    answer_legacy_work: "Non : les comptes professionnels et scolaires ne peuvent pas utiliser de mot de passe d’application. Mettez le logiciel à jour ou remplacez-le ; un appareil qui ne fait qu’envoyer a besoin d’un relais SMTP.",
    recommended: "À faire :",
    recommended_modern: "Ajoutez le compte dans {app} et connectez-vous avec Microsoft.",
    recommended_legacy: "Mettez le logiciel à jour ou remplacez-le.",
    app_switch: "Votre application",
    app_switch_heading: "Pas la bonne application ? Choisissez la vôtre",
    steps_heading: "Étapes pour {app}",
    other_apps: "Autres applications",
    profile_ios: "Télécharger le profil pour iPhone et iPad",
    profile_macos: "Télécharger le profil pour Mac",
    profile_imap_fallback: "En dernier recours : profil IMAP pour un mot de passe d’application",
    decision_heading: "Décider en trois questions",
    question_sign_in: "L’application affiche-t-elle une fenêtre de connexion Microsoft (une page Microsoft qui demande votre mot de passe et, si vous l’utilisez, la deuxième étape) ?",
    answer_sign_in: "Connectez-vous là. Pas besoin de mot de passe d’application.",
    question_update: "Peut-on mettre à jour l’application ou l’appareil, ou le remplacer par une des applications de cette page ?",
    answer_update: "Mettez-le à jour ou remplacez-le, puis connectez-vous avec Microsoft.",
    question_personal: "Est-ce un compte personnel (Outlook.com, Hotmail, Live, MSN) ?",
    answer_personal_yes: "Créez un mot de passe d’application pour cet appareil seul.",
    answer_personal_no: "Demandez un relais SMTP à votre service informatique ; les comptes professionnels et scolaires ne peuvent pas utiliser de mot de passe d’application.",
    yes: "Oui",
    no: "Non",
    settings_heading: "Paramètres manuels",
    settings_username: "Nom d’utilisateur : votre adresse e-mail complète",
    settings_caption: "Serveurs pour {name}",
    column_protocol: "Protocole",
    column_server: "Serveur",
    column_port: "Port",
    column_encryption: "Chiffrement",
    column_authentication: "Authentification",
    auth_oauth2: "OAuth2 (connexion Microsoft)",
    auth_password_personal: "Mot de passe (d’application uniquement)",
    auth_password_work: "Mot de passe",
    settings_documentation: "La page de Microsoft sur ces paramètres",
    phone_heading: "Ouvrir cette page sur votre téléphone",
    qr_alt: "QR code qui ouvre cette page",
    qr_text: "Visez le code avec l’appareil photo du téléphone pour y ouvrir ces étapes.",
    footer: "Cette page ne demande jamais votre mot de passe. C’est la page de connexion de Microsoft qui le fait.",
    apps: Apps {
        outlook_mobile: AppText {
            name: "Outlook mobile",
            summary: "Microsoft Outlook pour iPhone, iPad et Android",
            steps_personal: OUTLOOK_MOBILE_PERSONAL,
            steps_work: OUTLOOK_MOBILE_WORK,
        },
        gmail_android: AppText {
            name: "Gmail pour Android",
            summary: "L’application Gmail d’un téléphone ou d’une tablette Android",
            steps_personal: &[
                "Dans Gmail, touchez votre photo de profil › Ajouter un autre compte.",
                "Choisissez Outlook, Hotmail et Live.",
                "Saisissez votre adresse e-mail et touchez Suivant.",
                "Connectez-vous sur la page Microsoft et acceptez les autorisations.",
            ],
            steps_work: &[
                "Dans Gmail, touchez votre photo de profil › Ajouter un autre compte.",
                "Choisissez Exchange et Microsoft 365.",
                "Saisissez votre adresse e-mail et touchez Suivant.",
                "Connectez-vous sur la page Microsoft de votre organisation et acceptez les autorisations. Si votre organisation le demande, laissez Gmail appliquer ses règles de sécurité.",
            ],
        },
        ios_mail: AppText {
            name: "Mail sur iPhone et iPad",
            summary: "L’application Mail d’iOS et d’iPadOS",
            steps_personal: IOS_PERSONAL,
            steps_work: IOS_WORK,
        },
        macos_mail: AppText {
            name: "Mail sur Mac",
            summary: "L’application Mail de macOS",
            steps_personal: MACOS_ALL,
            steps_work: MACOS_ALL,
        },
        thunderbird: AppText {
            name: "Thunderbird",
            summary: "Thunderbird sur Windows, Mac et Linux",
            steps_personal: THUNDERBIRD_ALL,
            steps_work: THUNDERBIRD_ALL,
        },
        outlook_new: AppText {
            name: "Nouvel Outlook pour Windows",
            summary: "L’Outlook qui remplace Courrier sur Windows 10 et 11",
            steps_personal: OUTLOOK_NEW_ALL,
            steps_work: OUTLOOK_NEW_ALL,
        },
        outlook_classic: AppText {
            name: "Outlook classique pour Windows",
            summary: "Outlook de Microsoft 365, 2016, 2019, 2021 ou 2024",
            steps_personal: OUTLOOK_CLASSIC_ALL,
            steps_work: OUTLOOK_CLASSIC_ALL,
        },
        legacy: AppText {
            name: "Anciens logiciels et appareils",
            summary: "Outlook 2010 et 2013, Windows Live Mail, imprimantes et scanners qui ne font que du SMTP",
            steps_personal: LEGACY_PERSONAL,
            steps_work: LEGACY_WORK,
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
        space: "elle contient une espace",
        forbidden_character: "elle contient {char}, qu’une adresse ne peut pas contenir",
        empty_domain: "rien ne suit le @",
        domain_too_long: "la partie après le @ dépasse {max} caractères",
        single_label: "la partie après le @ doit contenir un point, comme exemple.fr",
        empty_label: "la partie après le @ contient deux points de suite, ou commence par un point",
        label_too_long: "une partie du domaine entre deux points dépasse {max} caractères",
        label_hyphen: "une partie du domaine commence ou finit par un tiret",
        domain_character: "la partie après le @ contient {char} ; seuls les lettres, chiffres, tirets et points y sont permis",
        ip_literal: "la partie après le @ est une adresse IP, pas un nom de domaine",
        invalid_idn: "la partie après le @ n’est pas un nom de domaine international valide",
    },
};
