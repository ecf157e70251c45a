"""Generate the bundled demo chat: ``python tools/make_demo.py [OUT]``.

The story data lives here, outside the package: the wheel ships only the export it makes
(``wachat_tui/data/demo_chat.txt``).

Maya (the phone owner, "me") and Leo are old friends texting across five months
(March–July 2024): a movie night, a flu, a trip to Lisbon, a concert, a 10k race, a new
job, a flat move and a surprise birthday, plus the everyday chatter in between. The
output is an Android export (``dd/mm/yyyy, HH:MM - Name: text``, 24-hour clock).

Each person has a learnable texting style:

* **Maya**: all lowercase, no final full stop, short bubbles sent in bursts of two to
  four, "haha"/"hahaha", "omg", "okay okay", "literally", 🙈 ✨ 😂 🥹.
* **Leo**: Proper capitalisation and full stops, one longer message per turn, "lol",
  "Mate", "Sounds good.", "Fair enough.", 👍 😅.

Everything is deterministic (one seeded RNG, no set/dict-order surprises), so running the
script again reproduces the committed ``demo_chat.txt`` byte for byte.
"""
from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 20240302
ME = "Maya"
FRIEND = "Leo"
FIRST_DAY = date(2024, 3, 2)
LAST_DAY = date(2024, 7, 28)
# Days that belong to a storyline alone (ill, away in Lisbon, the birthday, moving day).
QUIET_DAYS = {"2024-03-27", "2024-03-28", "2024-05-09", "2024-05-10", "2024-05-11", "2024-05-12",
              "2024-06-02", "2024-06-07", "2024-07-06", "2024-07-13"}
NEWLINE = "¶"  # marks a line break inside one message in the scripts below

ENCRYPTION_NOTICE = (
    "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
    "WhatsApp, can read or listen to them. Tap to learn more."
)

# --------------------------------------------------------------------------------------
# Script language
#   "M: a | b | c"      Maya sends three bubbles
#   "L: text || text"   Leo sends two messages (rare: he writes one longer message)
#   "+25 L: ..."        wait 25 minutes before this turn (otherwise a natural reply gap)
#   "¶"                 a line break inside one message
#   [photo] [photo: caption] [video] [voice] [sticker] [gif] [media] [deleted]
#   [doc: File name.pdf] [contact: Name] [location: lat,lon]   media and other specials
#   "... [edited]"      the message was edited
#   {slot}              a random pick from SLOTS (fillers only)
# --------------------------------------------------------------------------------------

# A dated storyline: (date, start time, lines).
STORY: list[tuple[str, str, list[str]]] = [
    ("2024-03-02", "10:14", [
        "L: Hey, it's Leo. New number, my old phone is at the bottom of a lake. Long story.",
        "M: omg hiii | saving it now | wait what lake 😂",
        "L: The one in the park. I was trying to take a photo of a heron and it just slid out of my hand.",
        "M: hahahaha noooo | did the heron at least look good",
        "L: I'll never know. The heron won.",
        "M: rip ur phone 🙈 | okay but we need to catch up soon | its been like a month",
        "L: Agreed. This week is a bit mad with school but next weekend should be free.",
        "M: okay okay i will hold u to that ✨",
    ]),
    ("2024-03-05", "19:40", [
        "M: today was a lot | we got a new client at the studio | a bank 🙈",
        "L: A bank? That sounds very serious. Is it a big project?",
        "M: the whole rebrand | logo, app, everything | harlow bank",
        "L: That's a big deal, well done. Are you leading it?",
        "M: kind of?? | me and jonas | im excited but also terrified",
        "L: You'll be great. Honestly, you always say that and then it goes fine.",
        "M: stop being nice its weird | haha thank u",
        "L: lol noted. I'm off to football, we're playing the team that always cheats.",
        "M: good luck dont get injured again",
        "+95 L: We lost 4-2. Nobody got injured though, so I'm calling it a win.",
        "M: a moral victory ✨",
    ]),
    ("2024-03-08", "12:31", [
        "M: movie night next friday | at urs?? | ur sofa is better than mine",
        "L: Sounds good. My sofa is flattered. What do you want to watch?",
        "M: something that makes me cry | or something with explosions | no in between",
        "L: I was thinking Past Lives, I haven't seen it yet. Or we could rewatch Mad Max.",
        "M: past lives!!! | i will cry so much | bring tissues",
        "L: I'll get tissues and popcorn. Tom might join for the first half, is that alright?",
        "M: of course | tell him to bring the good crisps",
        "L: Will do 👍",
    ]),
    ("2024-03-12", "21:05", [
        "M: harlow bank update | they want the logo bigger | AND smaller | at the same time",
        "L: lol how does that even work?",
        "M: nobody knows | jonas just stared at the wall for 5 min | i think he left his body",
        "L: Mate, that sounds exhausting. Did they at least like the colours?",
        "M: they liked the blue | they hated the other blue | its the same blue leo",
        "L: To be fair, bankers probably see more shades of blue than the rest of us.",
        "M: hahaha ok that was good | im stealing that for tomorrows meeting",
    ]),
    ("2024-03-15", "17:48", [
        "M: what time should i come",
        "L: Any time after 7 is fine. I'm making a curry, so come hungry.",
        "M: omg a curry | ur the best | should i bring anything",
        "L: Just yourself. Maybe some chocolate if you pass the shop.",
        "+70 M: on my way | got chocolate and the fancy popcorn 🙈",
        "L: Perfect. Door's open, just come up.",
        "+14 M: im outside | the door is not open leo",
        "L: Sorry! Coming down now 😅",
    ]),
    ("2024-03-16", "11:20", [
        "M: i am still thinking about that ending | why did it have to be so sad | and so good",
        "L: I know. I didn't expect it to hit that hard. The bar scene at the end was brilliant.",
        "M: i cried so much | dont tell anyone | especially tom",
        "L: Tom definitely noticed. He's not going to say anything though. Probably.",
        "M: leooo | tell him my eyes were just tired",
        "L: lol I'll tell him you have allergies. Thanks for coming over, that was a really good evening.",
        "M: thank u for the curry ✨ | 10/10 | would cry on ur sofa again",
    ]),
    ("2024-03-21", "20:30", [
        "M: pottery update | i made a mug",
        "M: [photo: behold]",
        "L: That's actually really good. Is it meant to lean like that?",
        "M: no 🙈 | it has character | its called the leaning mug of pisa",
        "L: lol I love it. I'd drink tea out of that.",
        "M: ur getting it for ur birthday then | no takebacks",
        "L: Deal. My birthday is in July though, so it has a long wait.",
        "M: it will age like fine wine",
    ]),
    ("2024-03-27", "08:05", [
        "M: i think im dying | not literally | but also maybe",
        "L: Oh no. What's wrong?",
        "M: fever | everything hurts | even my hair hurts",
        "L: That sounds like the flu. Please don't go into work. Have you got paracetamol?",
        "M: i have like 2 left | and some very old lemsip",
        "L: I'll drop some off after school. Anything else you need?",
        "M: soup?? | only if its easy | ur a hero 🥹",
        "L: Soup is easy. Go back to sleep, I'll text you when I'm on my way.",
    ]),
    ("2024-03-27", "17:55", [
        "L: Leaving school now. Tomato or chicken noodle?",
        "M: chicken noodle pls",
        "+40 L: Left a bag at your door: soup, paracetamol, orange juice and some ginger biscuits. Text me if you need anything else.",
        "M: leo | ur literally an angel | i will repay u in mugs",
        "L: Just get better. No mugs required.",
        "M: too late | more mugs are coming",
    ]),
    ("2024-03-28", "10:40", [
        "L: How are you feeling today? Any better?",
        "M: slightly less dead | the soup helped | i watched 6 episodes of bake off",
        "L: That's the correct way to be ill. Who's winning?",
        "M: the guy with the beard | his bread was stunning | i cried again",
        "L: You cry at everything lol. Glad you're feeling a bit better though.",
        "M: i cry at normal amounts | okay maybe a lot",
    ]),
    ("2024-03-30", "14:10", [
        "M: im alive!! | went outside for the first time | the sun is so bright",
        "L: Welcome back to the world. Any plans for Easter?",
        "M: going to my mums tomorrow | jess is coming too | so it will be loud",
        "L: Say hi to them from me. I'm at my dad's, he's doing a roast for twelve people.",
        "M: twelve?? | does he have twelve people",
        "L: He has nine people and a lot of optimism.",
        "M: hahaha i love ur dad",
    ]),
    ("2024-04-04", "21:40", [
        "L: Parents' evening survived. Four hours of talking about homework.",
        "M: omg u must be so tired | any weird parents",
        "L: One dad asked if I could give his son less physics. Not easier physics, just less of it.",
        "M: hahahaha less physics | like a smaller portion",
        "L: Exactly. I told him I'd see what I can do.",
        "M: u should give him physics lite | zero gravity edition ✨",
        "L: lol I'm going to bed. Night Maya.",
        "M: night night",
    ]),
    ("2024-04-10", "21:00", [
        "M: okay random idea | what if we went somewhere in may | like a long weekend",
        "L: I'm in. Where were you thinking?",
        "M: lisbon?? | priya went last year and wont shut up about it | pastel de nata every day",
        "L: Lisbon sounds great. The second week of May is half term for me, so I'm free.",
        "M: omg perfect | should we ask priya and tom",
        "L: Yes, the more the merrier. I'll ask Tom tonight.",
        "M: okay okay this is happening | im so excited 🙈✨",
    ]),
    ("2024-04-12", "13:05", [
        "L: Found flights for the 9th to the 12th. £89 each if we book this week. [edited]",
        "L: https://www.skyscanner.net/transport/flights/lond/lis/240509/240512/",
        "M: omg thats so cheap | wait what time is the flight",
        "L: 7:15 in the morning. I know, I know.",
        "M: 7:15 🙈 | i will have to wake up at like 4",
        "L: We can sleep on the plane. The return is Sunday evening, which is nice.",
        "M: okay fine | for pastel de nata i would wake up at 3",
        "L: That's the spirit. Tom's in, by the way.",
        "M: yesss | priya said yes too | its official",
    ]),
    ("2024-04-14", "20:20", [
        "M: look at this place",
        "M: https://www.airbnb.co.uk/rooms/48213377",
        "M: it has a balcony | and a cat lives next door apparently",
        "L: That looks great. How much is it per night?",
        "M: 140 for all of us | so like 35 each",
        "L: That's very reasonable. Let's book it before someone else does.",
        "M: booked!! | i used my card so everyone owes me 105 🙈",
        "L: I'll send you mine now. Can you send me your bank details again? I lost them with the phone.",
        "M: its 20-45-77 | 83920147 | maya r",
        "+3 L: Sent. Thanks for organising everything.",
        "M: [sticker]",
    ]),
    ("2024-04-18", "18:00", [
        "L: I've done something silly. I signed up for a 10k on the 2nd of June.",
        "M: omg leo | u hate running",
        "L: I don't hate running. Running hates me. There's a difference.",
        "M: hahaha | why did u do this",
        "L: Tom did it last year and wouldn't stop talking about it. Peer pressure, basically.",
        "M: okay i will make u a sign | leo run faster | or something more motivating",
        "L: I'd appreciate something more motivating, yes.",
        "M: leo u are a gazelle ✨",
        "L: lol that's much better. I've got a training plan, three runs a week.",
    ]),
    ("2024-04-25", "12:45", [
        "L: I made a rough plan for Lisbon, let me know what you think.",
        "L: [doc: Lisbon plan.pdf]",
        "L: Short version:¶Thursday: arrive, lunch, walk around Alfama.¶Friday: Belém, the tower and the pastries.¶Saturday: Sintra day trip.¶Sunday: market, then the airport.",
        "M: omg a pdf | ur such a teacher | i love it",
        "L: I can't help it. Is Sintra too much? It's a long day.",
        "M: no sintra is a must | the colourful palace!! | i need a photo there",
        "L: Sounds good. I'll look at train times.",
    ]),
    ("2024-05-01", "09:10", [
        "M: glass harbour are touring | sorry for screaming | but this is important",
        "L: No way. When are they playing?",
        "M: june 7th | the presale is on friday at 10",
        "L: We have to go. I can't do Friday morning though, I'm teaching.",
        "M: i will do it | i will sit in the queue like a warrior",
        "L: You're a legend. Two tickets then?",
        "M: two tickets | standing obviously | we're not old",
        "L: Speak for yourself, my knees are 70.",
    ]),
    ("2024-05-03", "09:55", [
        "M: im in the queue | 4000 people ahead of me | this is fine",
        "+12 M: 2100 | my heart is racing",
        "+9 M: 600 | i cant look",
        "+7 M: I GOT THEM | i got them leo | two standing tickets",
        "L: Amazing!!! I just saw this between lessons. You're a hero.",
        "M: hahaha i almost cried | its £46 each btw | no rush",
        "L: I'll send it tonight. Thank you, seriously.",
        "M: ✨✨✨",
    ]),
    ("2024-05-08", "21:40", [
        "M: packing question | do i need a jacket | it says 24 degrees",
        "L: I'd bring a light one. It can get windy in the evening by the river.",
        "M: okay okay | also how many shoes is normal | for 3 days",
        "L: Two pairs? Three at the very most.",
        "M: so 5 | got it",
        "L: lol. Remember it's hand luggage only.",
        "M: noooo i forgot | okay 2 pairs | rip my sandals 🥹",
        "L: Set an alarm. Taxi is at 4:45, I'll pick you up on the way.",
        "M: 4:45 is not a real time | but okay | night",
    ]),
    ("2024-05-09", "04:52", [
        "L: Outside.",
        "M: coming | 2 min | i cant find my passport",
        "M: found it | it was in my hand 🙈",
        "L: Classic. Come on, the meter is running.",
    ]),
    ("2024-05-09", "16:30", [
        "L: Where did you go? Tom and I are at the café by the viewpoint.",
        "M: i went to look at tiles | got distracted | sorry",
        "M: [location: 38.7114,-9.1300]",
        "L: That's five minutes away, we'll come to you.",
        "M: [photo: look at these tiles]",
        "L: Those are beautiful. Are you buying any?",
        "M: i want all of them | my suitcase says no",
        "L: Your suitcase is very wise. See you in five.",
    ]),
    ("2024-05-10", "11:15", [
        "M: leo | have u seen my sunglasses",
        "L: The ones you were wearing on your head this morning?",
        "M: ...yes | omg | they were on my head",
        "L: lol. We're in the queue for the pastries. Do you want two or three?",
        "M: three | obviously",
        "L: Three it is. Priya says four.",
        "M: priya is right as always | four",
        "M: [photo: breakfast of champions]",
    ]),
    ("2024-05-11", "19:50", [
        "L: I booked the restaurant for 8:30. The number's +351 21 342 1188 in case we're late. [edited]",
        "M: we will definitely be late | priya is still doing her hair",
        "L: Can you call them if it's past 8:45? My Portuguese is limited to obrigado.",
        "M: my portuguese is obrigado and pastel | we're doomed",
        "L: lol we'll manage. I'll wait outside.",
        "+35 M: 5 min away | run walking",
        "L: Got a table on the terrace. No rush.",
    ]),
    ("2024-05-12", "22:30", [
        "M: home 🥹 | miso is ignoring me | she is punishing me for leaving",
        "L: Home too. That was such a good trip. Thanks for getting us all to go.",
        "M: best weekend | we have to do it again | photo dump incoming",
        "M: [photo]",
        "M: [photo]",
        "M: [photo: the palace!!!]",
        "M: [video]",
        "L: Great photos. The one of Tom on the tram is incredible lol.",
        "M: hahaha he looks like a lost tourist | which he was",
        "L: He's already set it as his profile picture. Night Maya.",
        "M: night ✨",
    ]),
    ("2024-05-16", "20:00", [
        "M: harlow bank is LIVE | the new app launched today | my baby",
        "L: Congratulations! That's huge. How does it feel?",
        "M: weird | good weird | also i found a typo already 🙈",
        "L: lol nobody will notice. Are you celebrating?",
        "M: drinks with the studio | jonas cried | i did not cry | i cried a little",
        "L: I'm proud of you. We should celebrate properly at the weekend.",
        "M: okay okay | saturday brunch?? | my treat",
        "L: Sounds good. I'll book that place with the pancakes.",
    ]),
    ("2024-05-22", "18:20", [
        "M: can i ask u something | work thing",
        "L: Of course. What's up?",
        "M: a recruiter emailed me | from northlight | they want me to interview | for senior designer",
        "L: Northlight, the studio that did the museum app? That's brilliant.",
        "M: yes!! | but i love my team | and harlow just launched | i feel bad even thinking about it",
        "L: It's just an interview. You don't have to decide anything yet. See what they offer.",
        "M: ur right | ur annoyingly right",
        "L: I get that a lot lol.",
        "M: no u dont",
        "L: Fair enough.",
    ]),
    ("2024-05-29", "21:10", [
        "M: interview is tuesday | help | what do they even ask [edited]",
        "L: Here are the ones I'd prepare for:¶1. Tell us about a project you're proud of.¶2. A time you disagreed with a client.¶3. Why Northlight?¶4. Where do you see yourself in five years?",
        "M: omg ur so organised | 2 is easy | the blue logo saga",
        "L: Exactly. That's a great story if you tell it the right way.",
        "M: five years tho | i dont know where i see myself next week",
        "L: Say leading a design team and owning at least twelve leaning mugs.",
        "M: hahaha perfect answer | hired",
    ]),
    ("2024-06-02", "08:30", [
        "M: good luck today!!! | u are a gazelle | remember",
        "L: Thanks. I'm at the start line and I'm questioning all of my choices.",
        "M: u trained for this | also there is cake after | i made banana bread",
        "L: Now I have a reason to finish. See you at the end.",
        "+84 L: Done! 52:41. I didn't die.",
        "M: omg 52!!! | thats so good | ur target was 55",
        "L: I know, I'm very pleased. My legs are not.",
        "M: [photo: ur face at the finish 😂]",
        "L: Please delete that. I look like I've seen a ghost.",
        "M: never | this is going on the fridge",
    ]),
    ("2024-06-04", "17:30", [
        "M: interview done",
        "L: How did it go?",
        "M: i think good?? | they laughed at the blue story | and they liked my portfolio",
        "L: That sounds like it went really well. When will you hear back?",
        "M: next week | im trying not to think about it | failing",
        "L: Go and do something nice tonight. You've earned it.",
        "M: bath and pizza | the dream ✨",
    ]),
    ("2024-06-07", "18:45", [
        "L: Leaving now. Should be there around 7:30.",
        "M: im already in the queue | its so long",
        "+40 L: Here. Where are you?",
        "M: inside | by the merch stand | blue jacket",
        "L: Everyone here has a blue jacket lol.",
        "M: im waving | look for the waving",
        "L: Found you.",
        "+190 M: best night ever | my ears are ringing | and my voice is gone",
        "L: That was brilliant. Thanks again for getting the tickets.",
    ]),
    ("2024-06-08", "10:30", [
        "M: [voice]",
        "L: lol your voice is completely gone. You sound like a frog.",
        "M: a happy frog | they played the old songs!! | i didnt think they would",
        "L: When they played Paper Lanterns I genuinely got goosebumps.",
        "M: same | i filmed it | its mostly screaming",
        "M: [video]",
        "L: Mostly you screaming, to be fair.",
        "M: hahaha ok true",
    ]),
    ("2024-06-12", "15:20", [
        "M: leo | LEO | they offered me the job",
        "L: What?! Congratulations! That's amazing news.",
        "M: i said yes!!! | i start in july | omg i have to tell my boss",
        "L: You'll be fine. They'll be sad but they'll understand. This is a big step.",
        "M: im shaking | in a good way | i think",
        "L: Let's celebrate. Drinks on Friday? I'm buying this time.",
        "M: yesss | okay gotta go write the scariest email of my life",
    ]),
    ("2024-06-19", "20:00", [
        "M: flat hunting is the worst | todays place had a mushroom | growing in the bathroom",
        "L: A mushroom? Inside?",
        "M: inside | the agent said it was a feature",
        "L: lol what a feature. Do you have to be out of your place by the end of July?",
        "M: yes | priya is moving in with her boyfriend | so i need a place for me and miso",
        "L: Let me know if you want company for viewings. I'm free after school most days.",
        "M: omg yes pls | u can be the sensible one | i fall in love with every window",
    ]),
    ("2024-06-24", "12:40", [
        "M: i think i found it",
        "M: [photo]",
        "M: [photo: the window!!!]",
        "L: That window is lovely. How's the rest of it? Any mushrooms?",
        "M: zero mushrooms | big kitchen | 10 min from the new job",
        "L: That sounds perfect. Go for it before someone else does.",
        "M: i applied | fingers crossed 🙈",
        "+180 M: GOT IT | moving on the 13th",
        "L: Brilliant! I'll help you move. I can borrow my dad's van.",
    ]),
    ("2024-06-28", "17:10", [
        "M: last day at the studio | im sad | they got me a cake shaped like a mug",
        "L: That's so nice. They clearly know you well.",
        "M: [photo: it leans]",
        "L: lol it even leans. Perfect.",
        "M: leaving drinks at the fox at 7 | come by if u want",
        "L: I'll come after football, probably around 9.",
        "M: okay okay | save ur energy for dancing",
        "L: I don't dance. I sway supportively.",
    ]),
    ("2024-07-02", "20:30", [
        "M: are u free saturday evening | no reason",
        "L: That's a very suspicious question.",
        "M: its not suspicious | i just want to know | for no reason",
        "L: I'm free. Is this about my birthday?",
        "M: what birthday | i dont know what ur talking about",
        "L: lol okay. I'll keep Saturday free for no reason.",
        "M: good | wear a shirt | for no reason",
    ]),
    ("2024-07-06", "09:00", [
        "M: HAPPY BIRTHDAY 🎉 | 30!!! | ur so old",
        "L: Thank you! I feel very old. I found a grey hair this morning.",
        "M: its distinguished | like a professor",
        "L: I'll take it. What time tonight?",
        "M: be at the fox at 7:30 | dont be late | and wear the shirt",
        "L: Yes boss 👍",
    ]),
    ("2024-07-06", "23:40", [
        "M: did u know | be honest",
        "L: I had no idea. When I walked in and saw everyone I nearly turned around and left lol.",
        "M: hahaha ur face!! | tom almost ruined it twice",
        "L: Of course he did. Thank you, Maya. Really. That was one of the best birthdays I've had.",
        "M: 🥹 | u deserve it | also the mug is yours now",
        "L: The leaning mug of Pisa. It's going on the shelf of honour.",
        "M: good | oh and the climbing voucher is in the card | the code is 6011 0009 9013 9424 | it expires in december",
        "L: Thank you, that's so generous. Tom and I will go next weekend.",
        "M: good | night birthday boy ✨",
    ]),
    ("2024-07-08", "08:45", [
        "M: first day | i changed my outfit 4 times | is that normal",
        "L: Completely normal. You're going to be great. Remember they chose you.",
        "M: okay okay | breathing | they have a dog in the office",
        "L: Then it's already better than a bank.",
        "+540 M: the dog is called biscuit | everyone is nice | i think i love it here",
        "L: That's great to hear. How was your first day otherwise?",
        "M: i set up my laptop for 6 hours | classic | but good",
    ]),
    ("2024-07-13", "08:10", [
        "L: Got the van. I'll be at yours around 9.",
        "M: ur the best | i have 40 boxes | and one angry cat",
        "L: How does Miso feel about the move?",
        "M: she is in the bathroom | refusing all negotiations",
        "L: Smart cat. Put the kettle on, we'll need tea first.",
        "+105 M: leo where is the box that says kitchen | i cant find the kettle",
        "L: I think it's in the van. The box that says books. Sorry 😅",
    ]),
    ("2024-07-13", "19:30", [
        "M: thank u thank u thank u | i couldnt have done it without u",
        "L: Of course. Your new place is great. My back will recover in about a week lol.",
        "M: pizza is on me forever | miso came out of the bathroom | she loves the window",
        "L: See, even Miso approves.",
        "M: [photo: queen of the window]",
        "L: She looks very pleased with herself.",
    ]),
    ("2024-07-19", "16:00", [
        "L: Last day of term. Six weeks off, I might actually cry.",
        "M: omg summer leo | the best version of leo",
        "L: I'm going to read books, sleep and cook something complicated.",
        "M: and come to the festival with us | in august | u promised",
        "L: I did promise. Send me the details and I'll buy a ticket.",
        "M: https://www.greenmeadowfest.co.uk/tickets | its the one with the lake",
        "L: A lake. Great. I'll keep my phone in a zip bag this time.",
        "M: hahaha never forget the heron",
    ]),
    ("2024-07-24", "14:30", [
        "M: its 33 degrees | i am melting | the new job has no air con",
        "L: Same here. I'm sitting in front of the freezer with the door open.",
        "M: genius | i am lying on the floor of the office | biscuit is next to me",
        "L: The dog has the right idea. Is the flat okay in the heat?",
        "M: the flat is an oven | but a cute oven | miso sleeps in the bath",
        "L: She's always loved a bath lol.",
    ]),
    ("2024-07-27", "11:00", [
        "M: festival plan | we leave friday at 2 | jess is driving",
        "L: Sounds good. What should I bring?",
        "M: tent if u have one | snacks | good vibes ✨",
        "L: I've got a two-person tent. It's only slightly broken.",
        "M: slightly broken how",
        "L: One of the poles is held together with tape. It's fine. Probably.",
        "M: hahaha perfect | we will sleep under the stars if it falls",
        "L: That's the spirit. Can't wait.",
    ]),
]

# Everyday conversations: a template is a list of script lines with {slots}.
FILLERS: list[list[str]] = [
    # food
    ["M: {what are u having for dinner~whats for dinner at urs~dinner plans??} | {im starving~i am so hungry~i could eat a horse}",
     "L: Probably {dish} again. {What about you?~You?~How about you?}",
     "M: {takeaway} 🙈 | {dont judge me~no judgement pls~i deserve it}",
     "L: {No judgement here. That sounds better than mine to be honest.~Honestly, that sounds great.~Fair enough. You've earned it.}"],
    ["L: I tried a new recipe {tonight~this evening~for dinner}. {dish_fancy}.",
     "M: omg fancy | {how was it~did it work~was it good}",
     "L: {Edible. Tom said it was 'interesting', which I'm choosing to take as a compliment.~Not bad for a first try. A bit too much chilli.~Surprisingly good. I'm quite proud of it.}",
     "M: {hahaha interesting is never good~look at u~chef leo} | {send a photo next time~i want to try it~invite me next time}"],
    ["L: [photo: {dish_fancy}, attempt two]",
     "M: {wait that looks amazing~omg~okay that looks so good} | {can u cook for me sometime~i want some~why am i not there}",
     "L: {Of course. Come over next week and I'll make it again.~Next time, I promise. There's plenty.~I'll save you some.}",
     "M: {yesss ✨~deal~okay okay holding u to that}"],
    ["M: i made {bake} | {it looks weird~it looks a bit sad~its a bit burnt} | but it tastes good",
     "M: [photo]",
     "L: {That looks great. I'd eat that.~It looks fine to me. Very rustic.~Looks delicious, honestly.}",
     "M: {u can have a piece tomorrow~ill bring u some} | {if theres any left~no promises~if miso doesnt get it first}"],
    ["M: i ate so much {snack} | why am i like this",
     "L: {Because {snack} is great. No regrets.~It happens to the best of us.~Same here, I finished a whole bag of crisps.}",
     "M: okay okay ur right | no regrets 🙈"],
    ["#morning",
     "L: Do you know any good places for lunch near {area}? {Meeting my brother~Meeting Tom~Seeing my dad} there at one.",
     "M: omg yes | {cafe} | get the {cafe_dish}",
     "L: {Perfect, thanks. I'll report back.~Thanks! Noted.~Great, cheers.}",
     "+{long} L: The {cafe_dish} was as good as you said. {Thanks for the tip.~Everyone loved it.~Good call.}",
     "M: {told u ✨~i am always right~yesss}"],
    ["#evening night",
     "M: coffee {in the morning~tomorrow~before work}?? | i need to see a human",
     "L: I'm free before school, around {7:45~8~half 7}. The usual place?",
     "M: {that is so early~why are teachers like this} | okay fine | for u",
     "L: I'll get your oat latte in if I'm there first."],
    # work
    ["#weekday",
     "M: {client_drama}",
     "L: {Oh no. What did you say?~That's ridiculous. How did you react?~Mate. What did you tell them?}",
     "M: i said 'great idea' | and then {screamed into a cushion~went for a very long walk~ate a whole croissant in silence}",
     "L: {lol that's very professional.~Very professional of you lol.~That's the only sensible response.} Is it still due {deadline}?",
     "M: yes | {i want to lie down~send help~i need a holiday} | forever"],
    ["#weekday afternoon evening night",
     "L: Long day. {Year 9~Year 10~My form group} set fire to a piece of paper during the practical.",
     "M: omg | is everyone okay",
     "L: Everyone is fine. The paper is not. I've never seen a fire blanket used so fast.",
     "M: {hahaha the paper didnt deserve that~rip the paper 😂} | u need a holiday"],
    ["#weekday",
     "L: Marking {n_books} exercise books tonight. {Send help.~Wish me luck.~Pray for me.}",
     "M: sending help | and snacks | and moral support ✨",
     "L: {Thanks. One of them drew a very good picture of me as a dinosaur.~Thanks. Someone wrote their answers as a poem.~Cheers. One kid just wrote 'I don't know' very neatly on every page.}",
     "M: {hahaha~omg~hahahaha} | {pls give them a good mark~that kid is going places~i love them}",
     "L: {Full marks for creativity, zero for the physics.~I gave them a sticker. It felt fair.~I'm keeping that one.}"],
    ["#weekday afternoon evening night",
     "M: i had the best {meeting~day~afternoon} today | nobody {talked~interrupted me} for an hour | they just let me design",
     "L: {That's rare. What did you make?~Nice. What are you working on?~Sounds like a good day. What was it?}",
     "M: {design_thing} | its so pretty | i cant show u yet tho",
     "L: {Fair enough. I'll wait for the big reveal.~Top secret. I understand.~I look forward to the reveal.}"],
    ["#weekday",
     "M: jonas brought his sourdough starter to work | its called gerald | it lives on my desk now",
     "L: lol why does it live on your desk?",
     "M: because it likes the light | apparently | i am a babysitter now",
     "L: Take good care of Gerald."],
    ["#weekday afternoon evening night",
     "L: {Staff meeting~The department meeting~Today's briefing} ran over by an hour. We spent 40 minutes talking about the photocopier.",
     "M: {the photocopier deserves it~omg} | what did it do",
     "L: It's been jammed since February. Nobody knows how to fix it. It's become a bit of a legend.",
     "M: {hahaha the haunted photocopier~the photocopier of doom 😂}"],
    ["#weekday afternoon evening night",
     "M: {work_win}",
     "L: {That's brilliant, well done. You should be proud.~Amazing. Told you you're good at this.~Well done! That's great news.}",
     "M: okay okay i am a bit proud | thank u 🥹"],
    ["#weekday lunch",
     "M: is it bad if i take a nap at lunch | asking for me",
     "L: {Not bad at all. I'm jealous. I get 25 minutes and half of it is queueing for the microwave.~Not at all. I'd nap too if I had anywhere to lie down.}",
     "M: {the microwave queue 😂 | teacher life~do it in the supply cupboard | nobody will know}"],
    # cat
    ["M: [photo: {miso_caption}]",
     "L: {lol she looks very serious.~She looks like she's about to file a complaint.~What a face.}",
     "M: she is always serious | she is a business cat",
     "L: {What business is she in?~What's her job title?}",
     "M: {knocking things off tables | she is the ceo~professional napping | very successful}"],
    ["M: miso {miso_crime} | i cant even be mad | look at her face",
     "M: [photo]",
     "L: {That face is not sorry at all.~She doesn't look sorry.~Zero regret in those eyes.}",
     "M: {not even a little bit 🙈~never 😂~she never is}"],
    ["L: How's Miso doing?",
     "M: she is perfect | {she sat on my laptop during a call~she caught a fly~she learned to open the cupboard} | {everyone loved her~im so proud~i am scared}",
     "L: {She's the real designer in the house.~She's a genius lol.~That cat is smarter than both of us.}"],
    # tv / films / books
    ["M: have u watched {show} yet",
     "L: {Not yet. Is it good?~No, should I?~I've heard good things. Worth it?}",
     "M: omg yes | watch it tonight | i need someone to talk to about it",
     "L: {Okay, I'll start it tonight. No spoilers please.~Alright, I'll give it a go.}",
     "+{long} L: {Just watched two episodes. I see what you mean, it's really good.~Two episodes in. I'm hooked.}",
     "M: right?? | wait until episode {4~5~6} | thats all im saying"],
    ["L: Just finished {book}. I think you'd really like it.",
     "M: whats it about | no spoilers",
     "L: It's hard to explain without spoilers. Trust me on this one.",
     "M: okay okay lend it to me | i will read it in like {6 months~a year~2027}"],
    ["#evening night",
     "M: bake off {tonight~is on}!! | are u watching",
     "L: Of course. {It's bread week, isn't it?~Wouldn't miss it.}",
     "M: yes!!! | my favourite",
     "+{short} L: {That collapsed loaf was heartbreaking.~The technical was brutal this week.~I can't believe he forgot the sugar.}",
     "M: noooo i felt so bad for him | he tried so hard 🥹"],
    ["L: Have you seen {film}? Thinking of watching it tonight.",
     "M: yes!! | its so good | {cry warning tho~watch it with snacks~no phone allowed}",
     "L: {Noted. I'll get tissues ready lol.~Got it. Snacks are ready.~Understood.}"],
    ["M: what should i watch tonight | i want something easy",
     "L: {show} is good if you haven't seen it. Or Paddington 2, which is always the answer.",
     "M: {paddington 2 it is | a perfect film~ooh ok~paddington 2 obviously}"],
    # weekend / plans
    ["#wed thu fri",
     "L: What are you up to this weekend?",
     "M: {weekend_plan} | u",
     "L: {weekend_plan_leo}",
     "M: {nice~ooh nice~sounds good} | we should do something sunday maybe",
     "L: {Sounds good. Let me know.~Yes, let's do that.~I'm up for that.}"],
    ["#sun mon tue",
     "M: pub quiz on wednesday?? | we need to defend our title",
     "L: We came {fourth~fifth~third} last time. I'm not sure there's a title to defend.",
     "M: {fourth is basically first~its about the spirit} | if u think about it",
     "L: lol I'm in. I'll tell Tom."],
    ["#wed evening night",
     "L: We lost the pub quiz on the last question. {The capital of Australia.~How many hearts an octopus has.~The year the Titanic sank.}",
     "M: omg | {i would have known that~noooo} | who got it wrong",
     "L: {Tom was very confident.~Tom. Obviously.~Tom changed our answer at the last second.}",
     "M: {hahaha poor tom | we need to let him go~tom!!! | why is it always tom}",
     "L: We can't fire Tom, he brings the crisps."],
    ["M: bored | entertain me",
     "L: {Here's a fact: octopuses have three hearts.~Here's a fact: a day on Venus is longer than its year.~Fun fact: honey never goes off.}",
     "M: omg wait really | {greedy~that cant be true~why} | {okay that is a good fact~teach me more}",
     "L: {I'm a physics teacher, facts are my job lol.~Told you. I have hundreds of these.}"],
    ["#fri sat",
     "M: sunday walk?? | the weather is supposed to be nice",
     "L: {I'm in. The river or the park?~Sounds good. Where?}",
     "M: park | theres a coffee van | and dogs",
     "L: Sounds good. {Eleven~Half ten~Twelve} at the gate?",
     "M: {perfect ✨~see u there~yesss}"],
    ["L: Are we still on for {day}?",
     "M: yes!! | what time again",
     "L: {time_leo} at the usual place.",
     "M: {okay okay see u there~perfect~cant wait ✨}"],
    ["M: cant do {day} anymore 🥹 | {work stuff~jess needs me~i have a migraine} | sorry sorry",
     "L: {No worries at all. Another time.~Don't worry about it. Feel better.~That's fine, honestly.}",
     "M: next week?? | i promise",
     "L: {Next week is good.~Sounds good.~Deal.}"],
    # running / health
    ["L: Went for a {km}k run this morning. {Legs are jelly.~I'm exhausted.~It was freezing.}",
     "M: omg look at u | the gazelle",
     "L: {A very tired gazelle. My knee is complaining a bit.~Thanks. The gazelle needs a nap now.}",
     "M: stretch!! | pls | {i dont want to carry u~and drink water}"],
    ["M: i went to yoga | i fell over | {twice~three times~onto a stranger}",
     "L: Were you okay? What happened?",
     "M: tree pose | i am not a tree | i am a very small bush",
     "L: lol everyone falls over in tree pose. It's practically the rules."],
    ["L: I think I'm getting a cold. My throat's been sore all day.",
     "M: noooo | honey and lemon | and sleep | now",
     "L: Yes, doctor. Making the tea now.",
     "M: good | i have soup debts to repay"],
    # random / memes
    ["M: [photo]",
     "M: {this is literally u~this is u and u know it~found ur twin}",
     "L: {lol that's a bit too accurate.~I don't know what you mean lol.~Rude. Accurate, but rude.}",
     "M: {hahaha i knew it~hahahaha~u know its true}"],
    ["L: [photo]",
     "L: {Thought of you when I saw this.~This made me think of you.}",
     "M: hahahaha | i need this | where did u find it",
     "L: {It was in the window of a shop near school. I can get it for you if you want.~At the market. I'll get you one next time.}"],
    ["M: [gif]",
     "L: lol what is that from?",
     "M: no idea | but its how i feel {today~right now~about mondays}"],
    ["M: [sticker]",
     "L: {Is that a duck?~What is that?~Is that meant to be me?}",
     "M: its a very emotional duck | its me"],
    ["M: listen to this | {song} | its so good",
     "L: {Listening now. That's a great song, thanks.~Just listened. Really good.~Nice, adding it to my running playlist.}",
     "M: i have played it {40~25~100} times today | no exaggeration"],
    ["L: Have you heard {podcast}? I've been listening on the way to work.",
     "M: no | is it good",
     "L: Really good. Start with the episode about the {sandwich heist~haunted lighthouse~man who sold the Eiffel Tower}.",
     "M: {wait what~okay im listening~that sounds insane} | {downloading now~adding it}"],
    ["M: i saw a dog today | he was wearing {boots~a raincoat~a tiny hat} | {tiny boots~the cutest thing~i cant}",
     "L: {That's the best thing I've heard all week.~Did you get a photo?~Amazing. What kind of dog?}",
     "M: i almost cried | {four tiny boots leo~he was so proud~i need a dog}"],
    ["M: wait | do u remember the name of that place | the one with the {dumplings~ramen~good chips}",
     "L: {Dumpling Corner? By the station?~The one by the station? I think it's called Noodle House.~Lucky Fish? Near the canal.}",
     "M: yes!! | thank u | my brain is empty today"],
    ["L: Quick question: what's the name of the app you use for your budget?",
     "M: pennywise | like the clown | but for money",
     "L: lol brilliant. Downloading now."],
    ["M: i bought another plant 🙈",
     "L: How many is that now?",
     "M: like {23~26~30} | i have a problem",
     "L: You have a jungle. That's different.",
     "M: a jungle!! | i like that ✨"],
    ["#lunch afternoon",
     "M: jess is coming over tonight | shes bringing her new boyfriend",
     "L: Oh nice. What's he like?",
     "M: no idea | he plays the bass | thats all i know",
     "L: That's a good start. Everyone needs a bass player.",
     "+{long} M: update he is very nice | he brought cookies | approved ✨"],
    ["L: My brother just told me he's getting a parrot.",
     "M: omg | a parrot?? | will it talk",
     "L: He's already trying to teach it to say my name. I'm worried.",
     "M: hahaha i need to meet this parrot"],
    ["M: why is the bus always late when i am on time | but on time when i am late",
     "L: It's one of the great mysteries of the universe.",
     "M: physics teacher pls explain",
     "L: lol I'm afraid even physics can't explain the 38 bus."],
    ["L: It's raining so hard here. I got soaked walking to {the shop~school~the station}.",
     "M: same | my umbrella turned inside out | i gave up",
     "L: {Classic. Dry socks and tea then.~The weather has no respect lol.}"],
    ["#weekday morning lunch afternoon",
     "M: its so sunny today | i want to lie in a park",
     "L: Same. I'm stuck inside with {year 11 revising electricity~a pile of marking~a broken projector}.",
     "M: noooo | escape",
     "L: Tempting lol. Enjoy it for me."],
    ["#night",
     "M: i cant sleep | my brain is doing the thing",
     "L: Still up too. What's your brain doing?",
     "M: {replaying something i said in 2016~planning my whole life~thinking about whether fish get thirsty} | for no reason",
     "L: {Everyone does that. Try the boring podcast about trains, it works every time.~Classic. Put your phone down and try again.}",
     "M: okay okay | night 🙈"],
    ["#evening night",
     "L: Sorry, I completely forgot to reply earlier. Busy day.",
     "M: no worries | hows ur day been",
     "L: {Long but fine. Yours?~Chaotic. How about yours?~Not bad. Yours?}",
     "M: {chaotic | but good chaotic~slow | i did nothing~good | i had a nice lunch}"],
    ["M: [deleted]",
     "L: What did you delete? Now I'm curious.",
     "M: nothing!! | a typo | a very embarrassing typo",
     "L: lol okay."],
    ["L: [deleted]",
     "L: Sorry, wrong chat.",
     "M: hahaha who was it for | now i need to know",
     "L: My dad. It was about his bins. Not very exciting."],
    ["M: hows the training going | for the run",
     "L: Good, I think. I did {km}k yesterday without stopping.",
     "M: omg look at u | im so proud",
     "L: Thanks. My knees are less proud."],
    ["L: Can you send me that photo from the weekend? The one with everyone.",
     "M: [photo]",
     "M: this one??",
     "L: Yes, that's the one. Thanks."],
    ["M: whats ur brother's email again | for the party invite",
     "L: It's sam.turner.music@example.com, I think. Let me know if it bounces.",
     "M: thank u ✨"],
    ["M: can u recommend a book | i need something light",
     "L: Try {book}. It's funny and quite short.",
     "M: okay okay adding it to the list | the list is {40~50~60} books long"],
    ["L: I'm thinking of getting a bike. Do you think that's a good idea?",
     "M: yes!! | u can cycle to school | and be one of those people",
     "L: What people?",
     "M: the ones in the lycra | very serious | with the little mirrors",
     "L: I promise I won't get the little mirrors."],
    ["#mon",
     "M: its monday | why is it monday",
     "L: {I know. It came out of nowhere.~Every week, somehow.~Mondays should be illegal.}",
     "M: i need a coffee | a big one | like a bucket"],
    ["#fri afternoon evening",
     "L: Friday at last. Any plans tonight?",
     "M: sofa | pizza | miso | the dream ✨ | u",
     "L: {Same, more or less. Minus the cat.~Football, then an early night.~Tom's cooking, so probably food poisoning lol.}"],
    ["M: my mum just sent me a photo of her new haircut | and asked what i think",
     "M: [photo]",
     "L: That looks nice actually. Very stylish.",
     "M: it does right | i was scared to open it haha"],
    ["#night",
     "M: did u see the moon tonight | its huge",
     "L: Just went outside to look. That's incredible.",
     "M: i tried to take a photo | it looks like a tiny dot",
     "L: Photos of the moon never work. It's the law."],
    ["#weekend",
     "L: Tom just tried to make pancakes and set off the smoke alarm twice.",
     "M: hahahaha | twice",
     "L: Twice. The second time was with a different pancake.",
     "M: poor tom | hes trying his best"],
    ["M: help | i said 'love u' to my boss | on the phone | by accident",
     "L: lol no. What did they say?",
     "M: 'okay thanks maya' | i want to move to another country",
     "L: Honestly that's a great response from your boss."],
    ["#afternoon evening",
     "L: Do you want anything from the shop? I'm passing yours on the way back.",
     "M: omg yes pls | {oat milk~bread~cat food} | and something sweet",
     "L: Done. I'll leave it with your flatmate if you're out."],
    ["M: look what i found",
     "M: [photo: {2019~2018~summer 2017}]",
     "L: Wow, that's old. Is that the summer we went to the coast?",
     "M: yes!! | look at ur hair | the curtains",
     "L: Please don't bring up the curtains."],
    ["M: things i need to buy¶cat food¶milk¶more plants (dont say it)",
     "L: I wasn't going to say anything.",
     "M: u were thinking it"],
    ["L: Weekend plan, let me know if this works:¶Saturday: lunch at my dad's.¶Sunday: the market, then the film at 7.",
     "M: yes to all | especially the market",
     "L: Sounds good. I'll book the film tickets."],
    ["M: guess who just saw a fox | in the middle of the street | just walking | like a little person",
     "L: {Foxes here are so confident. One stole a shoe from our garden last week.~I love the foxes. They have no fear.}",
     "M: {a shoe!! | why~they are my heroes}"],
    ["#thu fri",
     "L: How was pottery?",
     "M: {i made a bowl | its more of a plate~i made a vase | it has a hole~the teacher said my mug was 'brave'}",
     "L: {lol it's still progress.~Brave is a compliment. I think.~Sounds like art to me.}",
     "M: {it has character~i will keep it forever~thank u for ur support 😂}"],
    ["M: okay weird question | do u have a drill",
     "L: I do. What are you drilling?",
     "M: a shelf | for the plants | obviously",
     "L: {I'll bring it round on Saturday and help. Please don't do it alone.~I'll drop it off tomorrow. Mind the pipes.}",
     "M: ur the best ✨"],
    ["#lunch afternoon evening night",
     "L: My dad just discovered voice notes. He sent me six this morning.",
     "M: {omg | what were they about~hahaha | this is the best news}",
     "L: {Mostly the weather. One was just him breathing for a minute.~His tomatoes. All six were about tomatoes.}",
     "M: {i love him so much~hahahaha | i need to hear them}"],
    ["M: leo | i need a word that means happy but fancier | for work",
     "L: Joyful? Delighted? Elated?",
     "M: {elated!! | perfect | thank u~ooh delighted | ur a dictionary}",
     "L: {Happy to help. Or should I say, delighted.~Any time lol.}"],
    ["L: [voice]",
     "M: {hahahaha | ur voice in the morning~omg was that a song~ok i laughed so hard}",
     "L: {I've had one coffee. Give me a break.~I'm practising for the quiz round lol.}"],
    ["M: i went to the big tesco | i only needed milk | i came back with a lamp",
     "L: lol that's how they get you. Is it a good lamp?",
     "M: {its a great lamp~its shaped like a mushroom | i love it}",
     "L: {Then it was worth it.~No regrets then.}"],
]

GREETINGS_M = [
    ["M: {hiii~hii~hiiii} | {how's ur day going~hows ur day~how are u}",
     "L: {Hey. Not bad, a bit busy. How about you?~Hi! All good here. You?~Hey you. Surviving. How are you?~Hello. Pretty good, thanks. Yours?}",
     "M: {m_day}"],
    ["#morning", "M: {morning ☀️~good morning~morninggg}",
     "L: {Morning. Did you sleep okay?~Morning! How are you?~Good morning. Coffee yet?}",
     "M: {m_day}"],
    ["M: leo | leo | {leooo~leoooo}",
     "L: {What's up?~Yes?~I'm here. What's happening?}",
     "M: nothing | {just wanted to say hi 🙈~i was bored~hi 🙈}"],
    ["M: {heyyy~heyy~hey hey}",
     "L: {Hey you. How's things?~Hey. How's your week going?~Hello. All good?}",
     "M: {m_day}"],
]
GREETINGS_L = [
    ["#lunch afternoon evening", "L: {Hey, how's your day going?~Hi. How's your day been?~Hello. How's work today?}", "M: {m_day} | urs"],
    ["#morning", "L: {Morning. How are you feeling today?~Morning. Sleep well?}", "M: {m_day}"],
    ["L: {Hello. Are you busy?~Hey, got a minute?~Are you around?}", "M: {not really | whats up~yes!! | whats up~for u always | whats up}"],
]
CLOSERS = [
    ["#weekday morning lunch afternoon", "L: {Right, I'd better get back to it. Speak later.~Anyway, back to work. Talk later.~Right, lesson starting. Speak soon.}",
     "M: {byeee ✨~byee~okay okay bye}"],
    ["M: {okay gotta go | talk later~gotta run | later~okay i have to go | byee}",
     "L: {Later 👍~Speak later.~Good luck.~Bye for now.}"],
    ["#afternoon evening", "L: {I'm off to make dinner. Talk tomorrow?~Right, time to cook. Speak later.~I need to go shopping. Talk later?~Tom's calling me for dinner. Later.}",
     "M: {yes!! | enjoy~yes | have fun~yess | bye~okay okay | byee}"],
    ["#weekday morning lunch afternoon", "M: {okay i need to work now~okay back to the pixels~okay the client is calling} | byeee",
     "L: {Good luck. Speak soon.~Have fun lol.~Good luck with it.}"],
]
CLOSERS_NIGHT = [
    ["L: {Right, I'm going to bed. Night Maya.~I'm falling asleep. Night.~Bedtime for me. Night Maya.}",
     "M: {night night 🙈~night ✨~nightt}"],
    ["M: {okay sleeping now | night~okay bed | night night~my eyes are closing | night}",
     "L: {Night. Sleep well.~Night 👍~Sleep well.}"],
    ["L: {Night. Speak tomorrow.~Good night. Talk tomorrow.}", "M: {night ✨~night night~sleep well}"],
]

SLOTS: dict[str, list[str]] = {
    "dish": ["pasta", "a stir fry", "leftover curry", "beans on toast", "fajitas", "soup",
             "a very sad salad", "eggs on toast", "risotto"],
    "dish_fancy": ["Shakshuka", "A mushroom risotto", "Homemade ramen", "Thai green curry",
                   "Lamb tagine", "Fish tacos", "Sourdough pizza"],
    "takeaway": ["thai takeaway", "chips from the place downstairs", "a whole pizza",
                 "noodles", "a kebab", "cereal"],
    "bake": ["banana bread", "cookies", "a lemon cake", "brownies", "cinnamon buns"],
    "snack": ["chocolate", "crisps", "hummus", "cheese", "popcorn"],
    "area": ["the station", "the canal", "the old market", "the museum"],
    "cafe": ["the green door", "luna", "bread & co", "the little one with the yellow chairs"],
    "cafe_dish": ["french toast", "eggs royale", "halloumi sandwich", "cinnamon bun"],
    "client_drama": [
        "harlow want to change the font again | the third time this week",
        "the client wants the whole thing to 'pop more' | what does that mean",
        "we presented today | the client asked if we could make it more purple | its a bank",
        "my manager moved the deadline | forward | by a week",
    ],
    "deadline": ["on Friday", "next week", "tomorrow", "on Monday"],
    "design_thing": ["a new icon set", "the onboarding screens", "a whole colour system",
                     "the illustrations for the app"],
    "work_win": [
        "the client loved my design | like actually loved it | no changes",
        "i presented to the whole studio today | and nobody fell asleep",
        "my boss said my work was 'really strong' | i will be thinking about this for a year",
    ],
    "n_books": ["thirty", "sixty", "forty-five", "ninety"],
    "miso_caption": ["she sat in the box instead of the bed", "look at this face",
                     "she is judging me again", "business cat at work"],
    "miso_crime": ["knocked my coffee off the table", "ate a leaf off my new plant",
                   "woke me up at 5am", "sat on my keyboard during a meeting"],
    "show": ["Slow Horses", "The Bear", "Shogun", "Severance", "Baby Reindeer", "Fallout"],
    "film": ["Dune Part Two", "Poor Things", "Anatomy of a Fall", "Perfect Days", "The Holdovers"],
    "book": ["Tomorrow and Tomorrow and Tomorrow", "Lessons in Chemistry", "Project Hail Mary",
             "Klara and the Sun", "The Thursday Murder Club"],
    "song": ["the new glass harbour single", "that song from the café", "paper lanterns (live)"],
    "podcast": ["the one about weird history", "No Such Thing As A Fish", "Rest Is History"],
    "weekend_plan": ["pottery on saturday", "jess is coming over", "doing nothing | proudly",
                     "cleaning the flat 🙈", "brunch with priya"],
    "weekend_plan_leo": ["Football on Saturday, then probably a quiet one.",
                         "Visiting my dad on Sunday. He wants help with the garden.",
                         "Marking, sadly. And a long run if the weather is good.",
                         "Not much. Tom wants to go to the climbing wall."],
    "day": ["thursday", "friday", "saturday", "sunday"],
    "time_leo": ["Seven", "Half seven", "Eight", "Six thirty"],
    "km": ["5", "6", "7", "8"],
    "m_day": ["good good | busy but good", "meh | tired", "chaotic haha", "so good actually ✨",
              "okay | a bit sleepy", "long | but fine"],
    "short": ["30", "45", "50"],
    "long": ["120", "150", "200"],
}

# --------------------------------------------------------------------------------------


@dataclass
class Line:
    """One exported line before formatting (text may span several lines)."""

    time: datetime
    author: str | None
    text: str


EMOJI_TAIL = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]\\s*$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PARTS = {"morning": (0, 11), "lunch": (11, 14), "afternoon": (12, 17), "evening": (17, 21), "night": (21, 24)}


def fits(template: list[str], when: datetime) -> bool:
    """A template may start with "#conditions": day names, weekday/weekend, parts of the day.
    Days are alternatives, parts of the day are alternatives; both groups must hold."""
    if not template or not template[0].startswith("#"):
        return True
    words = template[0][1:].split()
    day = _DAYS[when.weekday()]
    days = [w for w in words if w in _DAYS or w in ("weekday", "weekend")]
    parts = [w for w in words if w in _PARTS]
    day_ok = not days or day in days or ("weekday" in days and when.weekday() < 5) \
        or ("weekend" in days and when.weekday() >= 5)
    part_ok = not parts or any(_PARTS[p][0] <= when.hour < _PARTS[p][1] for p in parts)
    return day_ok and part_ok


_SLOT = re.compile(r"\{(\w+)\}")
_CHOICE = re.compile(r"\{([^{}]*~[^{}]*)\}")


class _Slots(dict):
    """format_map mapping: content slots fixed per template, everything else random."""

    def __init__(self, rng: random.Random):
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = self.rng.choice(SLOTS[key])
        self[key] = value
        return value


class Writer:
    def __init__(self, seed: int = SEED):
        self.rng = random.Random(seed)
        self.lines: list[Line] = []
        self.media_counter: dict[str, int] = {}
        self.now = datetime.combine(FIRST_DAY, datetime.min.time())

    # -- message rendering ---------------------------------------------------------
    def _media_name(self, prefix: str, ext: str, when: datetime) -> str:
        day = when.strftime("%Y%m%d")
        n = self.media_counter.get(day, 0) + 1
        self.media_counter[day] = n
        return f"{prefix}-{day}-WA{n:04d}.{ext}"

    def _render(self, author: str, raw: str, when: datetime) -> str:
        edited = False
        if raw.endswith(" [edited]"):
            raw, edited = raw[: -len(" [edited]")], True
        m = re.fullmatch(r"\[(\w+)(?::\s*(.*))?\]", raw)
        if m:
            kind, arg = m.group(1), m.group(2)
            # One export in six was saved "without media": a plain placeholder.
            plain = self.rng.random() < 0.15
            if kind == "photo":
                if plain and not arg:
                    return "<Media omitted>"
                text = f"{self._media_name('IMG', 'jpg', when)} (file attached)"
                return text + (f"\n{self._style(author, arg)}" if arg else "")
            if kind == "video":
                return "<Media omitted>" if plain else f"{self._media_name('VID', 'mp4', when)} (file attached)"
            if kind == "voice":
                return f"{self._media_name('PTT', 'opus', when)} (file attached)"
            if kind == "sticker":
                return "<Media omitted>" if plain else f"{self._media_name('STK', 'webp', when)} (file attached)"
            if kind in ("gif", "media"):
                return "<Media omitted>"
            if kind == "doc":
                return f"{arg} (file attached)"
            if kind == "contact":
                return f"{arg}.vcf (file attached)"
            if kind == "location":
                return f"location: https://maps.google.com/?q={arg}"
            if kind == "deleted":
                return "You deleted this message" if author == ME else "This message was deleted"
            raise ValueError(f"unknown special {raw!r}")
        text = self._style(author, raw.replace(NEWLINE, "\n"))
        return text + (" <This message was edited>" if edited else "")

    @staticmethod
    def _style(author: str, text: str) -> str:
        if author == ME:
            # Maya never capitalises and never ends on a full stop.
            text = text.lower().rstrip()
            while text.endswith(".") and not text.endswith("..."):
                text = text[:-1]
        return text

    def _emit(self, author: str, raw: str, when: datetime) -> None:
        self.lines.append(Line(when, author, self._render(author, raw, when)))

    # -- timing ----------------------------------------------------------------------
    def _reply_gap(self) -> int:
        r = self.rng.random()
        if r < 0.2:
            return 0
        if r < 0.6:
            return self.rng.randint(1, 2)
        if r < 0.85:
            return self.rng.randint(2, 5)
        if r < 0.97:
            return self.rng.randint(5, 15)
        return self.rng.randint(16, 45)

    def play(self, start: datetime, script: list[str]) -> datetime:
        """Write one conversation starting at ``start``; returns the time of its last line."""
        t = start
        last_author: str | None = None
        last_leo = ""
        for i, raw_line in enumerate(script):
            m = re.match(r"^(?:\+(\d+)\s+)?([ML]):\s*(.*)$", raw_line)
            if not m:
                raise ValueError(f"bad script line {raw_line!r}")
            wait, who, body = m.group(1), m.group(2), m.group(3)
            author = ME if who == "M" else FRIEND
            if wait:
                t += timedelta(minutes=int(wait))
            elif i > 0:
                t += timedelta(minutes=self._reply_gap() if author != last_author else self.rng.randint(0, 2))
            if author == ME:
                bubbles = self._maya_habits([b.strip() for b in body.split(" | ")], last_leo)
                for j, bubble in enumerate(bubbles):
                    if j:
                        t += timedelta(minutes=1 if self.rng.random() < 0.3 else 0)
                    self._emit(author, bubble, t)
            else:
                for j, part in enumerate(body.split(" || ")):
                    if j:
                        t += timedelta(minutes=self.rng.randint(0, 1))
                    part = self._leo_habits(part.strip())
                    self._emit(author, part, t)
                    last_leo = part
            last_author = author
        return t

    # -- habits layered over the scripts -----------------------------------------------
    def _maya_habits(self, bubbles: list[str], last_leo: str) -> list[str]:
        """Maya laughs at Leo's jokes in a bubble of its own and sprinkles 🙈 ✨ 😂."""
        rng = self.rng
        text = " ".join(bubbles).lower()
        if bubbles[0].startswith("["):
            return bubbles
        funny = "lol" in last_leo or last_leo.endswith("😅")
        if funny and not re.search(r"(ha){2,}|😂", text) and rng.random() < 0.6:
            bubbles = [rng.choice(["haha", "hahaha", "hahah", "hahahaha", "😂"])] + bubbles
        last = bubbles[-1]
        question = re.match(r"(is|are|do|did|does|what|whats|how|hows|why|when|where|can|should|will)\b", last)
        if not EMOJI_TAIL.search(last) and not last.startswith("[") and not question and rng.random() < 0.12:
            bubbles = bubbles[:-1] + [last + " " + rng.choice(["🙈", "✨", "😂", "🙈", "✨", "🥹"])]
        return bubbles

    def _leo_habits(self, text: str) -> str:
        """Leo signs off agreements with 👍 and apologies with 😅, after the full stop."""
        rng = self.rng
        if text.startswith("[") or not text.endswith("."):
            return text
        if re.match(r"(Sounds good|Sounds great|Perfect|Great|Deal|Will do|Cheers|Thanks|Done|Noted)\b", text) \
                and len(text) < 60 and rng.random() < 0.35:
            return text + " 👍"
        if re.search(r"\b(Sorry|sorry|Oops|my bad)\b", text) and rng.random() < 0.5:
            return text + " 😅"
        return text

    # -- fillers ---------------------------------------------------------------------
    def fill(self, template: list[str]) -> list[str]:
        slots = _Slots(self.rng)
        out = []
        for line in template:
            if line.startswith("#"):
                continue
            # "{slot}" → a pick from SLOTS (fixed within the template); "{a~b~c}" → one alternative
            line = _SLOT.sub(lambda m: slots[m.group(1)], line)
            while True:
                expanded = _CHOICE.sub(lambda m: self.rng.choice(m.group(1).split("~")), line)
                if expanded == line:
                    break
                line = expanded
            out.append(line)
        return out

    def filler_session(self, start: datetime, used: dict[int, date]) -> list[str]:
        rng = self.rng
        day = start.date()
        script: list[str] = []
        # 1-2 topics that suit the day and hour and were not used in the last 45 days
        suitable = [i for i in range(len(FILLERS)) if fits(FILLERS[i], start)]
        fresh = [i for i in suitable if (day - used.get(i, date.min)).days > 45] or suitable
        n_topics = 1 if rng.random() < 0.6 else 2
        picks = rng.sample(fresh, min(n_topics, len(fresh)))
        if rng.random() < 0.3:
            greet = GREETINGS_M if rng.random() < 0.6 else GREETINGS_L
            script += self.fill(rng.choice([g for g in greet if fits(g, start)]))
        for i in picks:
            used[i] = day
            script += self.fill(FILLERS[i])
        if rng.random() < 0.35:
            bank = CLOSERS_NIGHT if start.hour >= 21 else CLOSERS
            script += self.fill(rng.choice([c for c in bank if fits(c, start)]))
        return script

    # -- the whole chat --------------------------------------------------------------
    def build(self) -> list[Line]:
        rng = self.rng
        story_by_day: dict[date, list[tuple[datetime, list[str]]]] = {}
        for day_s, hm, script in STORY:
            d = date.fromisoformat(day_s)
            start = datetime.fromisoformat(f"{day_s}T{hm}")
            story_by_day.setdefault(d, []).append((start, script))

        first = datetime.combine(FIRST_DAY, datetime.min.time()).replace(hour=10, minute=2)
        self.lines.append(Line(first, None, ENCRYPTION_NOTICE))

        slots = [(7, 45, 8, 50), (12, 10, 13, 30), (17, 20, 18, 50), (19, 30, 21, 0), (21, 15, 22, 45)]
        used: dict[int, date] = {}
        last_end = first - timedelta(hours=2)  # the notice is no conversation
        day = FIRST_DAY
        while day <= LAST_DAY:
            weekend = day.weekday() >= 5
            planned: list[tuple[datetime, list[str], bool]] = []
            for start, script in story_by_day.get(day, []):
                planned.append((start, script, True))
            if day != FIRST_DAY and day.isoformat() not in QUIET_DAYS:
                n = rng.choices([0, 1, 2, 3], weights=[24, 46, 24, 6] if not weekend else [20, 46, 26, 8])[0]
                for h1, m1, h2, m2 in rng.sample(slots, n):
                    lo, hi = h1 * 60 + m1, h2 * 60 + m2
                    minute = rng.randint(lo, hi)
                    start = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
                    if any(abs((start - s).total_seconds()) < 3 * 3600 for s, _, _ in planned):
                        continue
                    planned.append((start, self.filler_session(start, used), False))
            planned.sort(key=lambda p: p[0])
            story_starts = sorted(s for s, _, is_story in planned if is_story)
            if day + timedelta(days=1) in story_by_day:
                story_starts += sorted(s for s, _ in story_by_day[day + timedelta(days=1)])
            gap = timedelta(minutes=75)
            for start, script, is_story in planned:
                # sessions never run into each other: at least 75 minutes of silence between them
                if start < last_end + gap:
                    if is_story:
                        raise ValueError(f"story session at {start} overlaps the previous one")
                    continue
                mark = len(self.lines)
                end = self.play(start, script)
                if not is_story and any(start < s < end + gap for s in story_starts):
                    del self.lines[mark:]  # this filler would run into a story: leave it out
                    continue
                last_end = end
            day += timedelta(days=1)
        return self.lines


def render(lines: list[Line]) -> str:
    out = []
    for line in lines:
        stamp = line.time.strftime("%d/%m/%Y, %H:%M")
        if line.author is None:
            out.append(f"{stamp} - {line.text}")
        else:
            out.append(f"{stamp} - {line.author}: {line.text}")
    return "\n".join(out) + "\n"


def check_styles(lines: list[Line]) -> None:
    """Keep the two voices honest: the generator refuses to write an off-style line."""
    special = re.compile(r"(file attached\)|<Media omitted>|^location: |deleted this message|message was deleted|https?://)")
    for line in lines:
        if line.author is None:
            continue
        text = line.text.replace(" <This message was edited>", "")
        if special.search(text.split("\n")[0]):
            continue
        if line.author == ME:
            if text != text.lower() or text.rstrip().endswith(".") and not text.endswith("..."):
                raise ValueError(f"off-style Maya line: {line.text!r}")
        else:
            head = text.lstrip()
            tail = text.rstrip()
            if head[:1].islower() and not head.startswith("lol"):
                raise ValueError(f"off-style Leo line (lowercase start): {line.text!r}")
            if tail[-1:].isalnum():
                raise ValueError(f"off-style Leo line (no final punctuation): {line.text!r}")


def generate(seed: int = SEED) -> str:
    lines = Writer(seed).build()
    check_styles(lines)
    for a, b in zip(lines, lines[1:]):
        if b.time < a.time:
            raise ValueError(f"out of order at {b.time}")
    return render(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "wachat_tui" / "data" / "demo_chat.txt"
    text = generate()
    out.write_text(text, encoding="utf-8")
    n = sum(1 for l in text.splitlines() if re.match(r"^\d\d/\d\d/\d{4}, \d\d:\d\d - ", l))
    print(f"wrote {out} ({n} messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
