"""A small, realistic corpus and question set for measuring retrieval, written as real files.

Several documents hold near-duplicate passages on purpose: two versions of one licence, a
contract and its amendment that changes the same clause, adult and children's dosing of the
same drugs. Each question names the file, a phrase only the right passage contains, and its page
(for PDFs). ``UNANSWERABLE`` questions have no answer in these documents (grounded mode must
refuse them).

Run ``python -m tests.rag.corpus OUT`` to write the documents to OUT/docs and the question set to
OUT/qa.jsonl (the ``enclave eval`` format).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.factories import make_docx, make_html, make_pdf, make_text

LICENCE_V2 = [
    """OPEN WORKS PUBLIC LICENCE
Version 2.0, June 1991

Preamble

The licences for most software are designed to take away your freedom to share and change it.
By contrast, the Open Works Public Licence is intended to guarantee your freedom to share and
change free software, to make sure the software is free for all its users.

0. Definitions

This Licence applies to any program or other work which contains a notice placed by the
copyright holder saying it may be distributed under the terms of this Open Works Public Licence.
The "Program" below refers to any such program or work, and a "work based on the Program" means
either the Program or any derivative work under copyright law.

1. Verbatim Copies

You may copy and distribute verbatim copies of the Program's source code as you receive it, in
any medium, provided that you conspicuously and appropriately publish on each copy an
appropriate copyright notice and disclaimer of warranty. You may charge a fee for the physical
act of transferring a copy, and you may at your option offer warranty protection in exchange
for a fee.""",
    """2. Modified Versions

You may modify your copy or copies of the Program or any portion of it, thus forming a work
based on the Program, and copy and distribute such modifications, provided that you cause the
modified files to carry prominent notices stating that you changed the files and the date of
any change, and that you cause any work that you distribute or publish to be licensed as a
whole at no charge to all third parties under the terms of this Licence.

3. Distribution of Object Code

You may copy and distribute the Program in object code or executable form provided that you
accompany it with the complete corresponding machine-readable source code, or with a written
offer, valid for at least three years, to give any third party, for a charge no more than your
cost of physically performing source distribution, a complete machine-readable copy of the
corresponding source code.

4. Termination

You may not copy, modify, sublicense, or distribute the Program except as expressly provided
under this Licence. Any attempt otherwise to copy, modify, sublicense or distribute the Program
is void, and will automatically terminate your rights under this Licence. Parties who have
received copies from you will not have their licences terminated so long as they remain in
full compliance.""",
    """5. Acceptance

You are not required to accept this Licence, since you have not signed it. However, nothing
else grants you permission to modify or distribute the Program or its derivative works. By
modifying or distributing the Program, you indicate your acceptance of this Licence.

6. Patents and Court Orders

If, as a consequence of a court judgment or allegation of patent infringement, conditions are
imposed on you that contradict the conditions of this Licence, they do not excuse you from the
conditions of this Licence. If you cannot distribute so as to satisfy simultaneously your
obligations under this Licence and any other pertinent obligations, then as a consequence you
may not distribute the Program at all.

7. Revised Versions

The Open Works Foundation may publish revised and/or new versions of the Public Licence from
time to time. If the Program specifies a version number of this Licence which applies to it
and "any later version", you have the option of following the terms of that version or of any
later version published by the Foundation.

8. No Warranty

Because the Program is licensed free of charge, there is no warranty for the Program, to the
extent permitted by applicable law. The entire risk as to the quality and performance of the
Program is with you.""",
]

LICENCE_V3 = [
    """OPEN WORKS PUBLIC LICENCE
Version 3.0, June 2007

Preamble

The Open Works Public Licence is a free, copyleft licence for software and other kinds of
works. Developers that use this Licence protect your rights with two steps: assert copyright
on the software, and offer you this Licence giving you legal permission to copy, distribute
and modify it.

0. Definitions

"This Licence" refers to version 3 of the Open Works Public Licence. "The Program" refers to
any copyrightable work licensed under this Licence. To "convey" a work means any kind of
propagation that enables other parties to make or receive copies; mere interaction with a user
through a computer network, with no transfer of a copy, is not conveying.

1. Source Code

The "Corresponding Source" for a work in object code form means all the source code needed to
generate, install, and run the object code and to modify the work, including scripts to control
those activities. It does not include the work's System Libraries or general-purpose tools.""",
    """4. Conveying Verbatim Copies

You may convey verbatim copies of the Program's source code as you receive it, in any medium,
provided that you conspicuously publish on each copy an appropriate copyright notice, keep
intact all notices of the absence of any warranty, and give all recipients a copy of this
Licence along with the Program. You may charge any price or no price for each copy that you
convey.

6. Conveying Non-Source Forms

You may convey a covered work in object code form, provided that you also convey the
Corresponding Source accompanied by a written offer, valid for at least three years and valid
for as long as you offer spare parts or customer support for that product model, to give
anyone who possesses the object code a copy of the Corresponding Source.

If you convey an object code work in a User Product, the Corresponding Source must be
accompanied by the Installation Information: any methods, procedures, authorization keys, or
other information required to install and execute modified versions in that User Product.""",
    """7. Additional Terms

"Additional permissions" are terms that supplement the terms of this Licence by making
exceptions from one or more of its conditions. When you convey a copy of a covered work, you
may at your option remove any additional permissions from that copy. You may add terms that
disclaim warranty or limit liability differently from sections 15 and 16.

8. Termination

You may not propagate or modify a covered work except as expressly provided under this Licence.
However, if you cease all violation of this Licence, then your licence from a particular
copyright holder is reinstated provisionally, and permanently if the holder notifies you of the
violation by some reasonable means, this is the first time you have received notice of
violation, and you cure the violation prior to 30 days after your receipt of the notice.""",
    """11. Patents

Each contributor grants you a non-exclusive, worldwide, royalty-free patent licence under the
contributor's essential patent claims, to make, use, sell, offer for sale, import and otherwise
run, modify and propagate the contents of its contributor version. If you convey a covered work
knowingly relying on a patent licence, you must arrange to deprive yourself of its benefit.

13. Use with the Affero Licence

You have permission to link or combine any covered work with a work licensed under version 3 of
the Open Works Affero Licence into a single combined work, and to convey the resulting work.

14. Revised Versions

The Open Works Foundation may publish revised versions of this Licence. If the Program
specifies that a proxy can decide which future versions of this Licence can be used, that
proxy's public statement of acceptance of a version permanently authorizes you to choose that
version for the Program.""",
]

AGREEMENT = [
    """MASTER SERVICES AGREEMENT

between Smith Logistics Limited (the "Customer") and Jones Analytics plc (the "Supplier"),
dated 3 March 2024.

1. Definitions

"Services" means the data analytics services described in Schedule 1. "Business Day" means a
day other than a Saturday, Sunday or public holiday in England. "Fees" means the charges set
out in Schedule 2.

2. Term

This Agreement starts on the Effective Date and continues for an initial term of three years,
after which it renews automatically for successive periods of twelve months unless either party
gives notice of non-renewal at least six months before the end of the then current term.

3. Fees and Payment

3.1 The Customer shall pay each valid invoice within 30 days of the date of the invoice.
3.2 If the Customer fails to pay any amount when due, interest accrues on the overdue amount at
the rate of 4% a year above the Bank of England base rate from the due date until payment.
3.3 The Supplier may increase the Fees once in each contract year by no more than the
increase in the Consumer Prices Index over the preceding twelve months.""",
    """4. Termination

4.1 Either party may terminate this Agreement at any time after the initial term.
4.2 Termination for convenience: either party may terminate this Agreement for convenience by
giving the other party not less than 90 days' written notice.
4.3 Termination for breach: either party may terminate this Agreement with immediate effect by
written notice if the other party commits a material breach which is irremediable or, if
remediable, is not remedied within 30 days of being notified in writing of the breach.
4.4 On termination the Supplier shall return or destroy all Customer Data within 60 days and
certify in writing that it has done so.

5. Confidentiality

Each party shall keep the other party's Confidential Information confidential during the term
and for five years after termination, and shall not use it except to perform this Agreement.
This clause does not apply to information that is or becomes public other than through breach.""",
    """6. Limitation of Liability

6.1 Nothing in this Agreement limits liability for death or personal injury caused by
negligence, or for fraud.
6.2 Subject to clause 6.1, each party's total liability in each contract year shall not exceed
the total Fees paid in the twelve months before the event giving rise to the claim.
6.3 Neither party is liable for loss of profits, loss of business or indirect loss.

7. Data Protection

The Supplier shall process Customer Personal Data only on the Customer's documented
instructions and shall notify the Customer without undue delay, and in any event within 48
hours, after becoming aware of a personal data breach.

8. Force Majeure

Neither party is in breach of this Agreement if it is prevented from performing by events
beyond its reasonable control. If such an event continues for more than 120 days, the party
not affected may terminate this Agreement by giving 14 days' written notice.""",
    """9. Non-Solicitation

During the term and for twelve months after it, neither party shall solicit or employ any
person employed by the other party who was involved in the Services, without prior written
consent.

10. Assignment

Neither party may assign or transfer this Agreement without the prior written consent of the
other party, such consent not to be unreasonably withheld, except to a member of its group.

11. Governing Law and Jurisdiction

This Agreement and any dispute arising from it are governed by the law of England and Wales.
The courts of England and Wales have exclusive jurisdiction, save that either party may seek
urgent injunctive relief in any court.

12. Notices

Notices must be in writing and delivered by hand or by recorded delivery to the registered
office of the recipient. Notices by email are not valid for the purposes of termination.""",
]

AMENDMENT = [
    ("heading1", "Amendment No. 1 to the Master Services Agreement"),
    ("paragraph", "This Amendment is made on 1 October 2024 between Smith Logistics Limited and "
                  "Jones Analytics plc and amends the Master Services Agreement dated 3 March "
                  "2024."),
    ("heading2", "1. Amended termination for convenience"),
    ("paragraph", "Clause 4.2 of the Agreement is deleted and replaced by: either party may "
                  "terminate this Agreement for convenience by giving the other party not less "
                  "than 60 days' written notice, which may not expire before 31 March 2025."),
    ("heading2", "2. Amended fees"),
    ("paragraph", "From 1 January 2025 the monthly service fee in Schedule 2 increases from "
                  "GBP 18,500 to GBP 19,750. All other Fees remain unchanged."),
    ("heading2", "3. Service levels"),
    ("paragraph", "The Supplier shall achieve platform availability of 99.5% in each calendar "
                  "month. For each full 0.5% below that level the Customer receives a service "
                  "credit of 5% of the monthly service fee, capped at 25%."),
    ("heading2", "4. Continuation"),
    ("paragraph", "Except as amended by this Amendment, the Agreement continues in full force "
                  "and effect."),
]

ADULT_PROTOCOL = [
    """COMMUNITY-ACQUIRED PNEUMONIA IN ADULTS: ANTIBIOTIC PROTOCOL
Version 4, approved by the Drugs and Therapeutics Committee, May 2025

1. Scope

This protocol covers adults over 18 years with community-acquired pneumonia (CAP) diagnosed
clinically and on chest X-ray. It does not apply to hospital-acquired pneumonia, to patients
who are severely immunocompromised, or to pregnant women, who follow the obstetric guideline.

2. Assessing severity

Assess severity with the CURB-65 score: one point each for confusion, urea above 7 mmol/L,
respiratory rate of 30 breaths per minute or more, systolic blood pressure below 90 mmHg or
diastolic 60 mmHg or less, and age 65 years or over. A score of 0 to 1 is low severity, 2 is
moderate severity, and 3 to 5 is high severity.""",
    """3. Low-severity CAP (CURB-65 score 0 to 1)

First choice: amoxicillin 500 mg orally three times a day for 5 days. If the patient is
allergic to penicillin, give doxycycline 200 mg on the first day then 100 mg once a day for
5 days in total, or clarithromycin 500 mg twice a day for 5 days.

4. Moderate-severity CAP (CURB-65 score 2)

First choice: amoxicillin 500 mg to 1 g orally three times a day plus clarithromycin 500 mg
twice a day, for 5 days. In penicillin allergy, give doxycycline as for low severity, or
levofloxacin 500 mg once a day only if the other options are unsuitable.

5. High-severity CAP (CURB-65 score 3 to 5)

First choice: co-amoxiclav 1.2 g intravenously three times a day plus clarithromycin 500 mg
intravenously twice a day. Review intravenous treatment by 48 hours and switch to oral
treatment when possible. Total course: 5 days, longer only on microbiology advice.""",
    """6. Renal impairment

If the estimated glomerular filtration rate (eGFR) is below 30 mL/min, reduce clarithromycin
to 250 mg twice a day and seek pharmacist advice for co-amoxiclav. Levofloxacin: 500 mg on the
first day, then 250 mg once a day when eGFR is 20 to 50 mL/min.

7. Monitoring and review

Recheck C-reactive protein at 48 to 72 hours. Failure to improve by day 3 should prompt a
chest X-ray review and sputum culture. Send blood cultures before the first dose in moderate
and high severity.

8. Penicillin allergy assessment

Record the nature of the reaction. A history of rash alone is not a contraindication to
cephalosporins; anaphylaxis, angioedema or severe cutaneous reactions are.""",
]

CHILD_PROTOCOL = """
<h1>Community-acquired pneumonia in children: antibiotic doses</h1>
<p>For children aged 1 month to 17 years. Check the dose against the child's weight.</p>
<h2>Amoxicillin by age</h2>
<p>Children aged 1 to 11 months: amoxicillin 125 mg three times a day for 5 days.</p>
<p>Children aged 1 to 4 years: amoxicillin 250 mg three times a day for 5 days.</p>
<p>Children aged 5 to 17 years: amoxicillin 500 mg three times a day for 5 days.</p>
<h2>Penicillin allergy in children</h2>
<p>Clarithromycin 7.5 mg/kg twice a day for 5 days (maximum 500 mg a dose). Doxycycline is not
used in children under 12 years because it stains developing teeth.</p>
<h2>Severe pneumonia in children</h2>
<p>Co-amoxiclav 30 mg/kg intravenously three times a day (maximum 1.2 g a dose), with
clarithromycin if atypical infection is suspected. Admit any child with oxygen saturation
below 92% in air.</p>
<h2>Safety netting</h2>
<p>Tell parents to return if the child has difficulty breathing, grunting, is not feeding,
or has fewer wet nappies. Review all children after 48 hours of treatment.</p>
"""

DISCHARGE = """DISCHARGE SUMMARY

Patient: Mrs Alice Romero, 72 years. Ward: Elm (respiratory). Admitted 2 June 2025,
discharged 7 June 2025.

Diagnosis

Community-acquired pneumonia of the right lower lobe, CURB-65 score 2 on admission, with
acute kidney injury (creatinine 168 micromol/L on admission, 104 micromol/L at discharge).

Treatment in hospital

Co-amoxiclav 1.2 g intravenously three times a day and clarithromycin 500 mg twice a day for
48 hours, then oral amoxicillin 1 g three times a day to complete 5 days in total.

Medicines on discharge

Amoxicillin 1 g three times a day until 9 June 2025 (two more days). Ramipril 2.5 mg once a day
was stopped because of the kidney injury; the GP should restart it when creatinine is back to
baseline. Atorvastatin 20 mg at night unchanged.

Follow-up

GP to repeat kidney function (U&E) within 7 days. Chest X-ray in 6 weeks to confirm resolution,
because Mrs Romero is a former smoker. Respiratory clinic appointment in 8 weeks.
"""

MEMO = """# Memo: document retention for the Smith matter

Prepared by the litigation team, 12 November 2024. Privileged and confidential.

## Litigation hold

A litigation hold applies from 15 October 2024 to every document about the Smith Logistics
contract, including email, chat messages and drafts. Routine deletion is suspended for these
custodians until the hold is released in writing by the supervising partner.

## Retention periods

Client files are kept for 7 years after the matter closes. Files about minors are kept until the
client's 25th birthday, if that is later. Conflict-check records are kept for 10 years.

## Destruction

At the end of the retention period paper files are shredded on site by an approved contractor,
and a destruction certificate is kept for 3 years. Electronic copies are deleted from backups
within 90 days of the destruction of the paper file.
"""

# (file, question, key phrase in the right passage, page or None)
QUESTIONS: list[tuple[str, str, str, int | None]] = [
    ("licence-v2.pdf", "Under version 2 of the licence, how long must a written offer for "
     "source code be valid?", "valid for at least three years, to give any third party", 2),
    ("licence-v3.pdf", "Under version 3, how long must the written offer for the "
     "Corresponding Source stay valid?", "as long as you offer spare parts", 2),
    ("licence-v2.pdf", "What happens to my rights under version 2 if I distribute the program "
     "in a way the licence does not allow?", "automatically terminate your rights", 2),
    ("licence-v3.pdf", "In version 3, how can a licence terminated for violation be "
     "reinstated?", "reinstated provisionally", 3),
    ("licence-v3.pdf", "Version 3: how many days do I have to cure a violation after notice?",
     "prior to 30 days after your receipt of the notice", 3),
    ("licence-v3.pdf", "Does version 3 grant a patent licence from contributors?",
     "royalty-free patent licence", 4),
    ("licence-v2.pdf", "What does version 2 say about patent infringement allegations and court "
     "judgments?", "allegation of patent infringement", 3),
    ("licence-v3.pdf", "What is Installation Information for a User Product?",
     "Installation Information", 2),
    ("licence-v3.pdf", "Can a work under version 3 be combined with the Affero licence?",
     "Affero Licence into a single combined work", 4),
    ("licence-v3.pdf", "Who can decide which future versions of the licence apply under "
     "version 3?", "proxy", 4),
    ("licence-v2.pdf", "Under version 2 may I charge a fee for transferring a copy?",
     "fee for the physical act of transferring a copy", 1),
    ("licence-v2.pdf", "Version 2: what must modified files carry?",
     "prominent notices stating that you changed the files", 2),
    ("licence-v2.pdf", "Why am I not required to accept the version 2 licence?",
     "since you have not signed it", 3),
    ("licence-v3.pdf", "What are additional permissions under version 3?",
     "supplement the terms of this Licence", 3),
    ("licence-v3.pdf", "In version 3, is interacting with a user over a computer network "
     "conveying?", "mere interaction with a user", 1),
    ("licence-v2.pdf", "GPL-style version 2.0: is there any warranty for the Program?",
     "there is no warranty for the Program", 3),
    ("services-agreement.pdf", "What is the notice period for termination for convenience "
     "under clause 4.2 of the original agreement?", "not less than 90 days' written notice", 2),
    ("amendment-no1.docx", "What notice period for termination for convenience applies after "
     "the amendment?", "not less than 60 days' written notice", None),
    ("services-agreement.pdf", "How long does a party have to remedy a material breach before "
     "the other can terminate?", "not remedied within 30 days", 2),
    ("services-agreement.pdf", "Within how many days must invoices be paid?",
     "within 30 days of the date of the invoice", 1),
    ("services-agreement.pdf", "What interest rate applies to late payments?",
     "4% a year above the Bank of England base rate", 1),
    ("services-agreement.pdf", "What is the cap on each party's liability?",
     "total Fees paid in the twelve months", 3),
    ("services-agreement.pdf", "How long do confidentiality obligations last after "
     "termination?", "five years after termination", 2),
    ("services-agreement.pdf", "How quickly must the supplier report a personal data breach?",
     "within 48 hours", 3),
    ("services-agreement.pdf", "What law governs the agreement?",
     "law of England and Wales", 4),
    ("services-agreement.pdf", "How long is the initial term and how does it renew?",
     "initial term of three years", 1),
    ("services-agreement.pdf", "Can the fees be increased each year, and by how much?",
     "Consumer Prices Index", 1),
    ("services-agreement.pdf", "What happens to customer data when the agreement ends?",
     "return or destroy all Customer Data within 60 days", 2),
    ("services-agreement.pdf", "Clause 8: after how many days of force majeure can the other "
     "party terminate?", "more than 120 days", 3),
    ("services-agreement.pdf", "Is there a non-solicitation clause for employees?",
     "solicit or employ any person", 4),
    ("services-agreement.pdf", "Can a termination notice be sent by email?",
     "Notices by email are not valid", 4),
    ("services-agreement.pdf", "Is liability for death or personal injury limited?",
     "death or personal injury", 3),
    ("services-agreement.pdf", "Can the agreement be assigned to another company?",
     "assign or transfer this Agreement", 4),
    ("services-agreement.pdf", "What does clause 4.3 say?", "4.3 Termination for breach", 2),
    ("services-agreement.pdf", "clause 3.2", "3.2 If the Customer fails to pay", 1),
    ("services-agreement.pdf", "clause 6.2 liability cap", "6.2 Subject to clause 6.1", 3),
    ("licence-v3.pdf", "section 11 of version 3", "royalty-free patent licence", 4),
    ("licence-v2.pdf", "section 6 of version 2", "allegation of patent infringement", 3),
    ("amendment-no1.docx", "What will the monthly service fee be from January 2025?",
     "GBP 19,750", None),
    ("amendment-no1.docx", "What availability must the platform achieve, and what are the "
     "service credits?", "99.5%", None),
    ("amendment-no1.docx", "What is the earliest date a convenience termination notice can "
     "expire?", "may not expire before 31 March 2025", None),
    ("cap-protocol.pdf", "What is the first-line antibiotic for low severity pneumonia in "
     "adults?", "amoxicillin 500 mg orally three times a day for 5 days", 2),
    ("cap-protocol.pdf", "What should an adult with low-severity CAP and penicillin allergy "
     "get?", "doxycycline 200 mg on the first day", 2),
    ("cap-protocol.pdf", "Treatment for moderate severity CAP, CURB-65 score 2?",
     "amoxicillin 500 mg to 1 g orally three times a day plus clarithromycin", 2),
    ("cap-protocol.pdf", "What is given intravenously for high-severity pneumonia?",
     "co-amoxiclav 1.2 g intravenously three times a day", 2),
    ("cap-protocol.pdf", "How is CURB-65 calculated?", "one point each for confusion", 1),
    ("cap-protocol.pdf", "What clarithromycin dose if eGFR is below 30 mL/min?",
     "reduce clarithromycin to 250 mg twice a day", 3),
    ("cap-protocol.pdf", "Levofloxacin dose when eGFR is 20 to 50?",
     "then 250 mg once a day when eGFR is 20 to 50", 3),
    ("cap-protocol.pdf", "When should C-reactive protein be rechecked?",
     "Recheck C-reactive protein at 48 to 72 hours", 3),
    ("cap-protocol.pdf", "Is a rash a contraindication to cephalosporins?",
     "rash alone is not a contraindication", 3),
    ("cap-protocol.pdf", "Which patients are excluded from the adult pneumonia protocol?",
     "does not apply to hospital-acquired pneumonia", 1),
    ("cap-protocol.pdf", "When should intravenous antibiotics be reviewed in severe CAP?",
     "Review intravenous treatment by 48 hours", 2),
    ("paediatric-cap.html", "Amoxicillin dose for a child aged 1 to 4 years?",
     "amoxicillin 250 mg three times a day", None),
    ("paediatric-cap.html", "What amoxicillin dose for a baby of 6 months?",
     "amoxicillin 125 mg three times a day", None),
    ("paediatric-cap.html", "Clarithromycin dose in children with penicillin allergy?",
     "Clarithromycin 7.5 mg/kg twice a day", None),
    ("paediatric-cap.html", "Why is doxycycline not used in children under 12?",
     "stains developing teeth", None),
    ("paediatric-cap.html", "When should a child with pneumonia be admitted?",
     "oxygen saturation below 92% in air", None),
    ("paediatric-cap.html", "What co-amoxiclav dose per kg for severe pneumonia in a child?",
     "Co-amoxiclav 30 mg/kg", None),
    ("paediatric-cap.html", "What safety-netting advice should parents get?",
     "difficulty breathing, grunting", None),
    ("discharge-summary.txt", "Why was Mrs Romero's ramipril stopped?",
     "stopped because of the kidney injury", None),
    ("discharge-summary.txt", "When does Alice Romero need a follow-up chest X-ray?",
     "Chest X-ray in 6 weeks", None),
    ("discharge-summary.txt", "What was Mrs Romero's creatinine at discharge?",
     "104 micromol/L at discharge", None),
    ("discharge-summary.txt", "Which antibiotics did the patient receive in hospital?",
     "then oral amoxicillin 1 g three times a day", None),
    ("discharge-summary.txt", "When should the GP repeat the kidney function tests?",
     "within 7 days", None),
    ("memo.md", "From what date does the litigation hold apply?", "15 October 2024", None),
    ("memo.md", "How long are client files retained after the matter closes?",
     "kept for 7 years after the matter closes", None),
    ("memo.md", "How long are conflict-check records kept?", "10 years", None),
    ("memo.md", "How are paper files destroyed and how long is the certificate kept?",
     "destruction certificate is kept for 3 years", None),
    ("memo.md", "How long until electronic copies are deleted from backups?",
     "within 90 days of the destruction", None),
]

# The same facts asked in other words, with few of the document's own terms: what the embedder
# has to carry. Kept apart so tuning on QUESTIONS can be checked against it.
PARAPHRASED: list[tuple[str, str, str, int | None]] = [
    ("licence-v2.pdf", "If I hand out binaries under the 1991 licence, for how long do I have "
     "to offer people the sources?", "valid for at least three years, to give any third party", 2),
    ("licence-v3.pdf", "Under the 2007 licence, what extra condition keeps my offer of "
     "sources alive for longer than three years?", "as long as you offer spare parts", 2),
    ("licence-v3.pdf", "Can I get my rights back after breaking the newer licence?",
     "reinstated provisionally", 3),
    ("licence-v2.pdf", "Does breaking the old licence end my permission straight away?",
     "automatically terminate your rights", 2),
    ("licence-v3.pdf", "Do contributors give me any rights under their inventions in the "
     "2007 licence?", "royalty-free patent licence", 4),
    ("licence-v3.pdf", "What must I supply so buyers of a consumer device can run altered "
     "firmware?", "Installation Information", 2),
    ("licence-v2.pdf", "If a judge's ruling conflicts with the 1991 licence, may I still "
     "share the software?", "may not distribute the Program at all", 3),
    ("licence-v2.pdf", "Does the program come with any guarantee of quality?",
     "there is no warranty for the Program", 3),
    ("services-agreement.pdf", "How long after an invoice is issued does Smith Logistics "
     "have to settle it?", "within 30 days of the date of the invoice", 1),
    ("services-agreement.pdf", "What does the customer owe if it pays late?",
     "4% a year above the Bank of England base rate", 1),
    ("services-agreement.pdf", "What is the most either side can be made to pay in a year?",
     "total Fees paid in the twelve months", 3),
    ("services-agreement.pdf", "How soon must the supplier tell us after a leak of personal "
     "information?", "within 48 hours", 3),
    ("services-agreement.pdf", "Which country's courts handle disputes with Jones "
     "Analytics?", "law of England and Wales", 4),
    ("services-agreement.pdf", "How long must secrets be kept once the contract is over?",
     "five years after termination", 2),
    ("services-agreement.pdf", "Can we hire away the supplier's staff who worked on the "
     "project?", "solicit or employ any person", 4),
    ("services-agreement.pdf", "How long does the contract last before it rolls over?",
     "initial term of three years", 1),
    ("services-agreement.pdf", "What must the supplier do with our information when the "
     "contract ends?", "return or destroy all Customer Data within 60 days", 2),
    ("amendment-no1.docx", "How much will the supplier charge per month in 2025?",
     "GBP 19,750", None),
    ("amendment-no1.docx", "What compensation do we get if the platform is down too much?",
     "service credit of 5%", None),
    ("cap-protocol.pdf", "A confused 70-year-old with high urea: how do we grade the chest "
     "infection?", "one point each for confusion", 1),
    ("cap-protocol.pdf", "Which oral drug do we start for a mild chest infection in a grown-up "
     "patient?", "amoxicillin 500 mg orally three times a day for 5 days", 2),
    ("cap-protocol.pdf", "What drip treatment is used for the sickest adult patients?",
     "co-amoxiclav 1.2 g intravenously three times a day", 2),
    ("cap-protocol.pdf", "How do we adjust antibiotics when the kidneys are failing?",
     "reduce clarithromycin to 250 mg twice a day", 3),
    ("cap-protocol.pdf", "When do we repeat the inflammation blood test?",
     "Recheck C-reactive protein at 48 to 72 hours", 3),
    ("cap-protocol.pdf", "Can a patient who only got a skin reaction to penicillin take "
     "cephalosporins?", "rash alone is not a contraindication", 3),
    ("paediatric-cap.html", "How much amoxicillin for a toddler of three?",
     "amoxicillin 250 mg three times a day", None),
    ("paediatric-cap.html", "Why avoid doxycycline in young kids?",
     "stains developing teeth", None),
    ("paediatric-cap.html", "What should parents watch for at home?",
     "difficulty breathing, grunting", None),
    ("discharge-summary.txt", "Which blood pressure tablet was paused and why?",
     "stopped because of the kidney injury", None),
    ("discharge-summary.txt", "What imaging does the patient need after going home?",
     "Chest X-ray in 6 weeks", None),
    ("memo.md", "Until when must we keep files about a child client?",
     "25th birthday", None),
    ("memo.md", "Who can lift the preservation order on the Smith documents?",
     "released in writing by the supervising partner", None),
]

# Questions with no answer in the corpus. Off-topic ones must be refused by grounded mode; the
# in-domain ones (a drug or a party the documents never mention) come close to real passages,
# and are left to the model's instruction to say when the passages do not answer.
OFF_TOPIC = [
    "What is the capital of Peru?",
    "Who won the football World Cup in 2018?",
    "What is a good recipe for banana bread?",
    "How do I change the oil in a diesel car?",
    "What is the boiling point of ethanol?",
    "How many moons does Jupiter have?",
    "Explain the rules of cricket.",
]
IN_DOMAIN_UNANSWERABLE = [
    "What is the warfarin dose for atrial fibrillation?",
    "Who is the landlord under the office lease?",
    "What is the insulin regimen for type 1 diabetes?",
]
UNANSWERABLE = OFF_TOPIC + IN_DOMAIN_UNANSWERABLE


def write_corpus(folder: Path) -> list[Path]:
    docs = folder / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    return [
        make_pdf(docs / "licence-v2.pdf", LICENCE_V2, title="Open Works Public Licence 2.0"),
        make_pdf(docs / "licence-v3.pdf", LICENCE_V3, title="Open Works Public Licence 3.0"),
        make_pdf(docs / "services-agreement.pdf", AGREEMENT,
                 title="Master Services Agreement"),
        make_docx(docs / "amendment-no1.docx", AMENDMENT, title="Amendment No. 1"),
        make_pdf(docs / "cap-protocol.pdf", ADULT_PROTOCOL,
                 title="Community-acquired pneumonia in adults"),
        make_html(docs / "paediatric-cap.html", "Pneumonia in children: antibiotic doses",
                  CHILD_PROTOCOL),
        make_text(docs / "discharge-summary.txt", DISCHARGE),
        make_text(docs / "memo.md", MEMO),
    ]


def question_lines(questions: list[tuple[str, str, str, int | None]] = QUESTIONS) -> list[str]:
    lines = []
    for source, q, key, page in questions:
        item: dict[str, object] = {"q": q, "source": source, "key": key}
        if page is not None:
            item["page"] = page
        lines.append(json.dumps(item, ensure_ascii=False))
    return lines


def write_question_set(path: Path, questions: list[tuple[str, str, str, int | None]] = QUESTIONS
                       ) -> Path:
    path.write_text("\n".join(question_lines(questions)) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1])
    write_corpus(out)
    write_question_set(out / "qa.jsonl")
    write_question_set(out / "qa-paraphrased.jsonl", PARAPHRASED)
    (out / "unanswerable.txt").write_text("\n".join(UNANSWERABLE) + "\n", encoding="utf-8")
    print(f"{len(QUESTIONS)} + {len(PARAPHRASED)} questions, {len(UNANSWERABLE)} unanswerable, "
          "documents in "
          f"{out / 'docs'}")
